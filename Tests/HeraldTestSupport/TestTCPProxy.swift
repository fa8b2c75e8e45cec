import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP proxy on 127.0.0.1 in front of another local port, which a test can cut at will: the
/// way to drop a client's connection mid-flight (even in the middle of a burst of writes)
/// without touching the broker every other test uses.
///
/// ```swift
/// let proxy = try TestTCPProxy(targetPort: broker.port)
/// defer { proxy.stop() }
/// configuration.port = proxy.port
/// proxy.sever()                         // every open connection drops now
/// proxy.severAfter(bytes: 40_000)       // each connection drops once its client sent that much
/// ```
///
/// `@unchecked Sendable` is safe: the links and the byte budget sit behind `state`'s mutex, and a
/// link's descriptors are closed under it, so `sever` never touches a reused descriptor.
public final class TestTCPProxy: @unchecked Sendable {
    /// The port clients connect to.
    public let port: Int
    private let targetPort: Int
    private let listener: Int32

    /// `@unchecked Sendable` is safe: the descriptors are immutable, `closed` is only touched
    /// under the proxy's mutex.
    private final class Link: @unchecked Sendable {
        let client: Int32
        let server: Int32
        var closed = false
        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }
    }

    private struct State {
        var links: [ObjectIdentifier: Link] = [:]
        var budget: Int?
        var stopped = false
    }

    private let state = Mutex(State())

    /// Listens on an ephemeral port of 127.0.0.1 and forwards every connection to `targetPort`.
    public init(targetPort: Int) throws {
        self.targetPort = targetPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyError("socket: errno \(errno)") }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { close(fd); throw ProxyError("bind/listen: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "test-proxy-accept"
        thread.start()
    }

    /// Drops every open connection at once, with a reset, as a crashed network path would.
    public func sever() {
        state.withLock { state in
            for link in state.links.values where !link.closed { Self.reset(link) }
        }
    }

    /// From now on each connection is dropped once its client has sent more than `bytes` bytes
    /// (nil: never). Open connections are measured from their start.
    public func severAfter(bytes: Int?) {
        state.withLock { $0.budget = bytes }
    }

    /// Stops listening and drops every connection.
    public func stop() {
        let wasStopped = state.withLock { state in
            defer { state.stopped = true }
            return state.stopped
        }
        guard !wasStopped else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        sever()
    }

    deinit {
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            if state.withLock({ $0.stopped }) { close(client); return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: targetPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard server >= 0, connected == 0 else {
                close(client)
                if server >= 0 { close(server) }
                continue
            }
            let link = Link(client: client, server: server)
            state.withLock { $0.links[ObjectIdentifier(link)] = link }
            let thread = Thread { [self] in pump(link) }
            thread.name = "test-proxy-link"
            thread.start()
        }
    }

    /// Copies bytes both ways until either side ends, the link is severed or its budget is spent.
    private func pump(_ link: Link) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var upstream = 0
        var fds = [
            pollfd(fd: link.client, events: Int16(POLLIN), revents: 0),
            pollfd(fd: link.server, events: Int16(POLLIN), revents: 0),
        ]
        loop: while true {
            guard poll(&fds, 2, 1_000) >= 0 || errno == EINTR else { break }
            for (index, (from, to)) in [(link.client, link.server), (link.server, link.client)].enumerated()
            where fds[index].revents != 0 {
                let count = read(from, &buffer, buffer.count)
                guard count > 0 else { break loop }
                var written = 0
                while written < count {
                    // MSG_NOSIGNAL: a peer that reset must end this link, not the test process (SIGPIPE).
                    let n = buffer.withUnsafeBytes { send(to, $0.baseAddress! + written, count - written, Int32(MSG_NOSIGNAL)) }
                    guard n > 0 else { break loop }
                    written += n
                }
                if index == 0 {
                    upstream += count
                    if let budget = state.withLock({ $0.budget }), upstream > budget { break loop }
                }
            }
        }
        state.withLock { state in
            if !link.closed { Self.reset(link) }
            link.closed = true
            close(link.client)
            close(link.server)
            state.links[ObjectIdentifier(link)] = nil
        }
    }

    /// Makes the next `close` send a reset instead of a polite FIN, and wakes the pump.
    private static func reset(_ link: Link) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        for fd in [link.client, link.server] {
            _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            shutdown(fd, Int32(SHUT_RDWR))
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    public struct ProxyError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
