internal import CCurl

// Owners of curl's C handles. None of these is Sendable: they are created, used and freed on
// the engine's thread only (see CurlMultiLoop).

/// `curl_global_init` must run once before any handle exists; a Swift global is initialised once,
/// thread-safely, on first use.
let curlGlobalInit: Void = {
    let rc = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    precondition(rc == CURLE_OK, "curl_global_init failed: \(rc.rawValue)")
}()

/// A curl call that failed while configuring a handle: a programming or build problem
/// (unknown option, feature not built in), reported on the one transfer it affects.
struct CurlSetupError: Error {
    let what: String
    let code: CURLcode
    var message: String { "curl refused \(what): \(String(cString: curl_easy_strerror(code)))" }
}

/// One easy handle, reused across transfers (`curl_easy_reset` between them).
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    /// curl writes a failing transfer's detailed reason here (CURLOPT_ERRORBUFFER).
    let errorBuffer: UnsafeMutablePointer<CChar>

    init() {
        _ = curlGlobalInit
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init returned NULL (out of memory)") }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Forgets every option of the previous transfer (connections stay in the multi's cache).
    func reset() {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
    }

    /// The one place easy-handle option return codes become Swift errors.
    private func check(_ code: CURLcode, _ what: @autoclosure () -> String) throws(CurlSetupError) {
        if code != CURLE_OK { throw CurlSetupError(what: what(), code: code) }
    }

    func set(_ option: CURLoption, _ value: Int) throws(CurlSetupError) {
        try check(CCurl_easySetLong(handle, option, value), "option \(option.rawValue) = \(value)")
    }

    func set(_ option: CURLoption, _ value: String) throws(CurlSetupError) {
        // curl copies string options (since 7.17), so the temporary C string may go away.
        try check(CCurl_easySetString(handle, option, value), "option \(option.rawValue)")
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(CurlSetupError) {
        try check(CCurl_easySetPointer(handle, option, pointer), "option \(option.rawValue)")
    }

    func set(_ option: CURLoption, offT value: Int) throws(CurlSetupError) {
        try check(CCurl_easySetOffT(handle, option, curl_off_t(value)), "option \(option.rawValue)")
    }

    func getLong(_ info: CURLINFO) -> Int? {
        var value = 0
        return CCurl_easyGetLong(handle, info, &value) == CURLE_OK ? value : nil
    }

    /// The error buffer's text, or curl's generic text for `code` when the buffer is empty.
    func errorText(_ code: CURLcode) -> String {
        if errorBuffer[0] != 0 { return String(cString: errorBuffer) }
        return String(cString: curl_easy_strerror(code))
    }
}

/// A `curl_slist` of request headers, freed with its owner.
final class CurlHeaderList {
    private(set) var list: UnsafeMutablePointer<curl_slist>?

    init(_ lines: [String]) {
        for line in lines {
            guard let grown = curl_slist_append(list, line) else { fatalError("curl_slist_append: out of memory") }
            list = grown
        }
    }

    deinit { curl_slist_free_all(list) }
}

/// The multi handle: its connection cache, DNS cache and scheduler are shared by every transfer.
final class CurlMulti {
    let handle: UnsafeMutableRawPointer

    init() {
        _ = curlGlobalInit
        guard let handle = curl_multi_init() else { fatalError("curl_multi_init returned NULL (out of memory)") }
        self.handle = handle
    }

    deinit { curl_multi_cleanup(handle) }

    func set(_ option: CURLMoption, _ value: Int) {
        let rc = CCurl_multiSetLong(handle, option, value)
        precondition(rc == CURLM_OK, "curl_multi_setopt(\(option.rawValue)) failed: \(rc.rawValue)")
    }
}
