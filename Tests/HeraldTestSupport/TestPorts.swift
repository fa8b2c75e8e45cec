import Foundation

/// A TCP port on 127.0.0.1 that nothing listens on (bound, then released), for "connection
/// refused" cases.
///
/// ```swift
/// let url = "http://127.0.0.1:\(try closedPort())/hook"   // every connect is refused
/// ```
public func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &address) { pointer in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            guard bind(fd, sa, length) == 0, getsockname(fd, sa, &length) == 0 else {
                throw TestReceiver.ReceiverError(message: "could not bind a probe socket: errno \(errno)")
            }
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
