internal import CRabbitMQ
import Foundation

/// Owns the C memory behind the strings and tables handed to one rabbitmq-c call.
///
/// rabbitmq-c does not copy `amqp_bytes_t` or tables it is given, so everything must stay alive
/// until the call returns; the arena frees it all when it goes away. Not `Sendable`: it lives
/// and dies on the connection's owner thread.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    private func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
        let pointer = malloc(max(byteCount, 1))!
        allocations.append(pointer)
        return pointer
    }

    /// A NUL-terminated copy of `string`, for C `const char *` parameters.
    func cString(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8CString)
        let pointer = allocate(utf8.count).bindMemory(to: CChar.self, capacity: utf8.count)
        pointer.update(from: utf8, count: utf8.count)
        return UnsafePointer(pointer)
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var copy = string
        return copy.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ data: Data) -> amqp_bytes_t {
        data.withUnsafeBytes { bytes($0) }
    }

    func bytes(_ buffer: UnsafeRawBufferPointer) -> amqp_bytes_t {
        let pointer = allocate(buffer.count)
        if let base = buffer.baseAddress, buffer.count > 0 { pointer.copyMemory(from: base, byteCount: buffer.count) }
        return amqp_bytes_t(len: buffer.count, bytes: pointer)
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        // Sorted so that the same table always encodes to the same bytes.
        for (index, (key, value)) in table.sorted(by: { $0.key < $1.key }).enumerated() {
            entries[index] = amqp_table_entry_t(key: bytes(key), value: field(value))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func field(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case .bool(let v): field.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue); field.value.boolean = v ? 1 : 0
        case .int8(let v): field.kind = UInt8(AMQP_FIELD_KIND_I8.rawValue); field.value.i8 = v
        case .int16(let v): field.kind = UInt8(AMQP_FIELD_KIND_I16.rawValue); field.value.i16 = v
        case .int32(let v): field.kind = UInt8(AMQP_FIELD_KIND_I32.rawValue); field.value.i32 = v
        case .int64(let v): field.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue); field.value.i64 = v
        case .float(let v): field.kind = UInt8(AMQP_FIELD_KIND_F32.rawValue); field.value.f32 = v
        case .double(let v): field.kind = UInt8(AMQP_FIELD_KIND_F64.rawValue); field.value.f64 = v
        case .string(let v): field.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue); field.value.bytes = bytes(v)
        case .bytes(let v):
            field.kind = UInt8(AMQP_FIELD_KIND_BYTES.rawValue)
            field.value.bytes = v.withUnsafeBytes { bytes($0) }
        case .timestamp(let v): field.kind = UInt8(AMQP_FIELD_KIND_TIMESTAMP.rawValue); field.value.u64 = v
        case .table(let v): field.kind = UInt8(AMQP_FIELD_KIND_TABLE.rawValue); field.value.table = table(v)
        case .array(let values):
            field.kind = UInt8(AMQP_FIELD_KIND_ARRAY.rawValue)
            let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * max(values.count, 1))
                .bindMemory(to: amqp_field_value_t.self, capacity: max(values.count, 1))
            for (index, element) in values.enumerated() { entries[index] = self.field(element) }
            field.value.array = amqp_array_t(num_entries: Int32(values.count), entries: entries)
        case .void: field.kind = UInt8(AMQP_FIELD_KIND_VOID.rawValue)
        }
        return field
    }

    /// C message properties for `properties`, with `extraHeaders` merged over its headers.
    func properties(_ properties: AMQPProperties, extraHeaders: AMQPTable = [:]) -> amqp_basic_properties_t {
        var p = amqp_basic_properties_t()
        var flags: UInt32 = 0
        func set(_ value: String?, _ flag: Int32, _ assign: (amqp_bytes_t) -> Void) {
            guard let value else { return }
            assign(bytes(value))
            flags |= UInt32(flag)
        }
        set(properties.contentType, AMQP_BASIC_CONTENT_TYPE_FLAG) { p.content_type = $0 }
        set(properties.contentEncoding, AMQP_BASIC_CONTENT_ENCODING_FLAG) { p.content_encoding = $0 }
        set(properties.correlationId, AMQP_BASIC_CORRELATION_ID_FLAG) { p.correlation_id = $0 }
        set(properties.replyTo, AMQP_BASIC_REPLY_TO_FLAG) { p.reply_to = $0 }
        set(properties.expiration, AMQP_BASIC_EXPIRATION_FLAG) { p.expiration = $0 }
        set(properties.messageId, AMQP_BASIC_MESSAGE_ID_FLAG) { p.message_id = $0 }
        set(properties.type, AMQP_BASIC_TYPE_FLAG) { p.type = $0 }
        set(properties.userId, AMQP_BASIC_USER_ID_FLAG) { p.user_id = $0 }
        set(properties.appId, AMQP_BASIC_APP_ID_FLAG) { p.app_id = $0 }
        let headers = properties.headers.merging(extraHeaders) { _, extra in extra }
        if !headers.isEmpty {
            p.headers = table(headers)
            flags |= UInt32(AMQP_BASIC_HEADERS_FLAG)
        }
        p.delivery_mode = properties.persistent ? 2 : 1
        flags |= UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG)
        if let priority = properties.priority { p.priority = priority; flags |= UInt32(AMQP_BASIC_PRIORITY_FLAG) }
        if let timestamp = properties.timestamp { p.timestamp = timestamp; flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG) }
        p._flags = flags
        return p
    }
}

// MARK: - From C

extension amqp_bytes_t {
    var string: String {
        guard len > 0, let bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
    }

    var data: Data {
        guard len > 0, let bytes else { return Data() }
        return Data(bytes: bytes, count: len)
    }

    var byteArray: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: len))
    }
}

extension AMQPFieldValue {
    init(_ field: amqp_field_value_t) {
        switch Int(field.kind) {
        case Int(AMQP_FIELD_KIND_BOOLEAN.rawValue): self = .bool(field.value.boolean != 0)
        case Int(AMQP_FIELD_KIND_I8.rawValue): self = .int8(field.value.i8)
        case Int(AMQP_FIELD_KIND_U8.rawValue): self = .int16(Int16(field.value.u8))
        case Int(AMQP_FIELD_KIND_I16.rawValue): self = .int16(field.value.i16)
        case Int(AMQP_FIELD_KIND_U16.rawValue): self = .int32(Int32(field.value.u16))
        case Int(AMQP_FIELD_KIND_I32.rawValue): self = .int32(field.value.i32)
        case Int(AMQP_FIELD_KIND_U32.rawValue): self = .int64(Int64(field.value.u32))
        case Int(AMQP_FIELD_KIND_I64.rawValue): self = .int64(field.value.i64)
        case Int(AMQP_FIELD_KIND_U64.rawValue): self = .int64(Int64(truncatingIfNeeded: field.value.u64))
        case Int(AMQP_FIELD_KIND_F32.rawValue): self = .float(field.value.f32)
        case Int(AMQP_FIELD_KIND_F64.rawValue): self = .double(field.value.f64)
        case Int(AMQP_FIELD_KIND_UTF8.rawValue): self = .string(field.value.bytes.string)
        case Int(AMQP_FIELD_KIND_BYTES.rawValue): self = .bytes(field.value.bytes.byteArray)
        case Int(AMQP_FIELD_KIND_TIMESTAMP.rawValue): self = .timestamp(field.value.u64)
        case Int(AMQP_FIELD_KIND_TABLE.rawValue): self = .table(AMQPTable(cTable: field.value.table))
        case Int(AMQP_FIELD_KIND_ARRAY.rawValue):
            let array = field.value.array
            var values: [AMQPFieldValue] = []
            for index in 0..<Int(array.num_entries) { values.append(AMQPFieldValue(array.entries[index])) }
            self = .array(values)
        default: self = .void
        }
    }
}

extension Dictionary where Key == String, Value == AMQPFieldValue {
    init(cTable: amqp_table_t) {
        self.init()
        for index in 0..<Int(cTable.num_entries) {
            let entry = cTable.entries[index]
            self[entry.key.string] = AMQPFieldValue(entry.value)
        }
    }
}

extension AMQPProperties {
    init(_ p: amqp_basic_properties_t) {
        let flags = p._flags
        func has(_ flag: Int32) -> Bool { flags & UInt32(flag) != 0 }
        self.init(
            contentType: has(AMQP_BASIC_CONTENT_TYPE_FLAG) ? p.content_type.string : nil,
            contentEncoding: has(AMQP_BASIC_CONTENT_ENCODING_FLAG) ? p.content_encoding.string : nil,
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? AMQPTable(cTable: p.headers) : [:],
            persistent: has(AMQP_BASIC_DELIVERY_MODE_FLAG) ? p.delivery_mode == 2 : false,
            priority: has(AMQP_BASIC_PRIORITY_FLAG) ? p.priority : nil,
            correlationId: has(AMQP_BASIC_CORRELATION_ID_FLAG) ? p.correlation_id.string : nil,
            replyTo: has(AMQP_BASIC_REPLY_TO_FLAG) ? p.reply_to.string : nil,
            expiration: has(AMQP_BASIC_EXPIRATION_FLAG) ? p.expiration.string : nil,
            messageId: has(AMQP_BASIC_MESSAGE_ID_FLAG) ? p.message_id.string : nil,
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? p.timestamp : nil,
            type: has(AMQP_BASIC_TYPE_FLAG) ? p.type.string : nil,
            userId: has(AMQP_BASIC_USER_ID_FLAG) ? p.user_id.string : nil,
            appId: has(AMQP_BASIC_APP_ID_FLAG) ? p.app_id.string : nil)
    }
}
