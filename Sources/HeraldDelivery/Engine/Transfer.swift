internal import CCurl
import HeraldCore

#if canImport(Glibc)
    import Glibc
#endif

/// One request in flight on the engine's thread: its easy handle, the C memory curl reads
/// (body, header list), what the callbacks have collected so far, and who is waiting for it.
final class Transfer {
    let id: UInt64
    let easy: CurlEasy
    let continuation: CheckedContinuation<DeliveryResponse, Never>
    let destinationGuard: DestinationGuard
    let bodyPrefixLimit: Int
    let maxResponseBytes: Int
    let timeoutMs: Int
    let connectTimeoutMs: Int
    var started: ContinuousClock.Instant = .now

    private let body: UnsafeMutableRawBufferPointer
    private var headerList: CurlHeaderList?

    // Filled by the callbacks.
    var headers: [HTTPHeader] = []
    var bodyPrefix: [UInt8] = []
    var bodyBytesSeen = 0
    /// The response grew past `maxResponseBytes`; curl was told to stop reading (not a failure).
    var stoppedReading = false
    /// The guard refused an address curl tried; reported if no other address worked.
    var refusal: DestinationRefusal?

    init(
        id: UInt64, request: DeliveryRequest, easy: CurlEasy, configuration: HTTPDeliveryClient.Configuration,
        continuation: CheckedContinuation<DeliveryResponse, Never>
    ) {
        self.id = id
        self.easy = easy
        self.continuation = continuation
        destinationGuard = configuration.destinationGuard
        bodyPrefixLimit = configuration.responseBodyPrefixBytes
        maxResponseBytes = configuration.maxResponseBytes
        timeoutMs = max(1, request.timeout.wholeMilliseconds)
        connectTimeoutMs = max(1, request.connectTimeout.wholeMilliseconds)
        // curl reads the body from our memory (CURLOPT_POSTFIELDS), so it must outlive the transfer.
        body = .allocate(byteCount: max(request.body.count, 1), alignment: 1)
        request.body.withUnsafeBytes { body.copyMemory(from: $0) }
    }

    deinit { body.deallocate() }

    /// Sets every option for `request` on a freshly reset easy handle.
    func configure(_ request: DeliveryRequest, configuration: HTTPDeliveryClient.Configuration) throws(CurlSetupError) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        try easy.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(easy.errorBuffer))
        try easy.set(CURLOPT_URL, request.url)
        try easy.set(CURLOPT_PROTOCOLS_STR, configuration.destinationGuard.httpsOnly ? "https" : "http,https")
        try easy.set(CURLOPT_FOLLOWLOCATION, 0)
        // Never take a proxy from http_proxy/https_proxy: the guard must see the receiver's address.
        try easy.set(CURLOPT_PROXY, "")
        try easy.set(CURLOPT_NOSIGNAL, 1)
        try easy.set(CURLOPT_POST, 1)
        try easy.set(CURLOPT_POSTFIELDSIZE_LARGE, offT: request.body.count)
        try easy.set(CURLOPT_POSTFIELDS, pointer: body.baseAddress)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMs)
        try easy.set(CURLOPT_TIMEOUT_MS, timeoutMs)
        try easy.set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        // On HTTP/2, wait for a connection that can multiplex rather than opening another one.
        try easy.set(CURLOPT_PIPEWAIT, 1)
        try easy.set(CURLOPT_TCP_KEEPALIVE, 1)
        try easy.set(CURLOPT_DNS_CACHE_TIMEOUT, configuration.dnsCacheSeconds)
        try easy.set(CURLOPT_USERAGENT, configuration.userAgent)
        try easy.set(CURLOPT_PRIVATE, pointer: me)
        try easy.set(CURLOPT_WRITEDATA, pointer: me)
        try easy.set(CURLOPT_HEADERDATA, pointer: me)
        try easy.set(CURLOPT_OPENSOCKETDATA, pointer: me)
        try check(CCurl_easySetWriteFunction(easy.handle, transferWriteCallback), "write callback")
        try check(CCurl_easySetHeaderFunction(easy.handle, transferHeaderCallback), "header callback")
        try check(CCurl_easySetOpenSocketFunction(easy.handle, transferOpenSocketCallback), "open-socket callback")
        if let caBundle = configuration.caBundlePath { try easy.set(CURLOPT_CAINFO, caBundle) }

        var lines: [String] = []
        var hasContentType = false
        for header in request.headers {
            if header.name.lowercased() == "content-type" { hasContentType = true }
            // "Name;" is curl's spelling of a header with an empty value ("Name:" would delete it).
            lines.append(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        // Suppress curl's own additions: the 100-continue round trip and a form content type.
        lines.append("Expect:")
        if !hasContentType { lines.append("Content-Type:") }
        let list = CurlHeaderList(lines)
        headerList = list
        try easy.set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(list.list))
    }

    private func check(_ code: CURLcode, _ what: String) throws(CurlSetupError) {
        if code != CURLE_OK { throw CurlSetupError(what: what, code: code) }
    }

    // MARK: callbacks (on the engine thread, inside curl_multi_perform)

    /// One raw header line as curl hands it over (with its CR LF). Parsed on bytes: this runs for
    /// every header of every response, and String/Character processing here was once the
    /// worker's hottest path.
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let isSpace = { (b: UInt8) in b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\r") || bytes[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        if end >= 5, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"), bytes[2] == UInt8(ascii: "T"),
            bytes[3] == UInt8(ascii: "P"), bytes[4] == UInt8(ascii: "/")
        {
            // A new status line (after a 1xx, or a redirect response): only the last one counts.
            headers.removeAll(keepingCapacity: true)
            return
        }
        guard headers.count < 100, let colon = bytes[..<end].firstIndex(of: UInt8(ascii: ":")) else { return }
        var valueStart = colon + 1
        while valueStart < end, isSpace(bytes[valueStart]) { valueStart += 1 }
        var valueEnd = end
        while valueEnd > valueStart, isSpace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        valueEnd = min(valueEnd, valueStart + 8192)
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<colon]), as: UTF8.self)
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd]), as: UTF8.self)
        headers.append(HTTPHeader(name, value))
    }

    /// Returns false to make curl stop reading.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if bodyPrefix.count < bodyPrefixLimit {
            bodyPrefix.append(contentsOf: bytes.prefix(bodyPrefixLimit - bodyPrefix.count))
        }
        bodyBytesSeen += bytes.count
        if bodyBytesSeen > maxResponseBytes {
            stoppedReading = true
            return false
        }
        return true
    }

    /// Opens the socket for `address` unless the guard refuses it; returns -1 (CURL_SOCKET_BAD)
    /// to refuse, which curl reports as "could not connect" and tries the next address.
    func openSocket(family: Int32, type: Int32, protocol proto: Int32, address: IPAddress?) -> Int32 {
        guard let address else {
            refusal = DestinationRefusal(
                address: nil, reason: "destination has an address family Herald cannot check (\(family))")
            return -1
        }
        if let refused = destinationGuard.refusal(for: address) {
            refusal = refused
            return -1
        }
        #if os(Linux)
            return socket(family, type | Int32(SOCK_CLOEXEC.rawValue), proto)
        #else
            return socket(family, type, proto)
        #endif
    }
}

// C function pointers cannot capture context: each finds its Transfer through the user pointer,
// which stays valid because the engine holds the Transfer until curl is done with the handle.

private let transferWriteCallback:
    @convention(c) (
        UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?
    ) -> Int = { data, size, count, user in
        guard let user else { return 0 }
        let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
        let total = size * count
        let keepGoing = transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: total))
        return keepGoing ? total : 0
    }

private let transferHeaderCallback:
    @convention(c) (
        UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?
    ) -> Int = { data, size, count, user in
        guard let user else { return 0 }
        let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
        let total = size * count
        transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: total))
        return total
    }

private let transferOpenSocketCallback:
    @convention(c) (
        UnsafeMutableRawPointer?, curlsocktype, UnsafeMutablePointer<curl_sockaddr>?
    ) -> curl_socket_t = { user, _, sockaddrPointer in
        guard let user, let sockaddrPointer else { return -1 }
        let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
        let info = sockaddrPointer.pointee
        // `addr` is declared as a 16-byte sockaddr but curl stores the full sockaddr_in6 there:
        // read it through a raw pointer at the field's offset rather than copying the field.
        let offset = MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr)!
        let raw = UnsafeRawPointer(sockaddrPointer) + offset
        var address: IPAddress?
        if info.family == AF_INET, info.addrlen >= MemoryLayout<sockaddr_in>.size {
            let sin = raw.loadUnaligned(as: sockaddr_in.self)
            address = .v4(UInt32(bigEndian: sin.sin_addr.s_addr))
        } else if info.family == AF_INET6, info.addrlen >= MemoryLayout<sockaddr_in6>.size {
            var sin6 = raw.loadUnaligned(as: sockaddr_in6.self)
            address = withUnsafeBytes(of: &sin6.sin6_addr) { IPAddress(v6Bytes: $0) }
        }
        return transfer.openSocket(family: info.family, type: info.socktype, protocol: info.protocol, address: address)
    }
