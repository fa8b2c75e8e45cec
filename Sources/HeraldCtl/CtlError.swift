/// A failure heraldctl reports as one line on stderr before exiting with status 1.
public struct CtlError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
