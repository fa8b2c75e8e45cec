/// The version Herald reports in its `User-Agent` (`Herald/0.1.0`).
public let heraldVersion = "0.1.0"
