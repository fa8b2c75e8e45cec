/// Defaults every Herald process shares, so a local run needs no configuration and the
/// processes agree on where the broker and the store are.
public enum ServiceDefaults {
    /// `HERALD_AMQP_URL`: the local broker's default vhost as guest.
    public static let amqpURL = "amqp://guest:guest@127.0.0.1:5672/"
    /// `HERALD_DATABASE_PATH`: the SQLite store in the working directory.
    public static let databasePath = "./herald.sqlite"
    /// The address servers bind: loopback unless configured (`0.0.0.0` in containers).
    public static let host = "127.0.0.1"
}
