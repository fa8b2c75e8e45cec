import ArgumentParser

/// `heraldctl`: the administrator's tool for Herald.
///
/// ```
/// heraldctl dlq list --summary
/// heraldctl dlq replay --endpoint ep_1 --rate 50/s
/// heraldctl topology check
/// heraldctl listen --port 9000 --profile eksms --secret …
/// ```
public struct HeraldCtlCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "heraldctl",
        abstract: "Administer Herald: dead letters, endpoints, events, topology, stats, and a local webhook receiver.",
        discussion: """
            Settings come from the environment:
              HERALD_AMQP_URL               broker (default amqp://guest:guest@127.0.0.1:5672/)
              HERALD_INGEST_URL             herald-ingest (default http://127.0.0.1:8080)
              HERALD_API_KEY                Bearer key for `events send`
              HERALD_ADMIN_KEY              Bearer key for `endpoints …`
              HERALD_RABBIT_MANAGEMENT_URL  management API for rates in `stats` (optional)

            Shell completion: heraldctl --generate-completion-script bash|zsh|fish
            """,
        version: "0.1.0",
        subcommands: [
            DLQCommand.self, EndpointsCommand.self, EventsCommand.self, TopologyCommand.self,
            StatsCommand.self, ListenCommand.self,
        ])

    public init() {}
}

extension HeraldCtlCommand {
    /// Parses the process's arguments and runs the command: all `heraldctl`'s `main.swift` does.
    /// (It lives here because the executable does not import ArgumentParser, and without that
    /// import the synchronous `main()` would be chosen.)
    public static func runFromCommandLine() async {
        await main()
    }
}
