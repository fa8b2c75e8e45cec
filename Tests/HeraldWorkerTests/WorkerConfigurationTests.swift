import HeraldDelivery
import HeraldService
import HeraldWorker
import Testing

// Pure: no broker needed (`swift test --filter WorkerConfigurationReads`).
@Suite("The worker's configuration reads the destination guard's keys")
struct WorkerConfigurationReadsTheGuard {
    private func configuration(_ values: [String: String]) throws -> WorkerConfiguration {
        try WorkerConfiguration(environment: ServiceEnvironment(values))
    }

    @Test("unset keys give a guard that allows nothing and lets http through")
    func defaults() throws {
        let destinationGuard = try configuration([:]).destinationGuard
        #expect(destinationGuard == DestinationGuard(), "expected \(DestinationGuard()), got \(destinationGuard)")
    }

    @Test("HERALD_ALLOW_PRIVATE is a comma-separated list of ranges, spaces and empty items ignored")
    func allowlist() throws {
        let destinationGuard = try configuration(["HERALD_ALLOW_PRIVATE": "127.0.0.1/32, ::1/128,10.1.0.0/16, ,"])
            .destinationGuard
        #expect(destinationGuard.allowed.map(\.description) == ["127.0.0.1/32", "::1/128", "10.1.0.0/16"])
        #expect(try configuration(["HERALD_ALLOW_PRIVATE": ""]).destinationGuard.allowed == [])
    }

    @Test(
        "HERALD_HTTPS_ONLY is a boolean",
        arguments: [("true", true), ("1", true), ("on", true), ("false", false), ("0", false), ("", false)])
    func httpsOnly(value: String, expected: Bool) throws {
        let got = try configuration(["HERALD_HTTPS_ONLY": value]).destinationGuard.httpsOnly
        #expect(got == expected, "HERALD_HTTPS_ONLY=\(value): expected \(expected), got \(got)")
    }

    @Test("bad configuration names the key and the value")
    func badConfiguration() {
        #expect(
            throws: ConfigurationError(
                key: "HERALD_ALLOW_PRIVATE", problem: "'localhost' is not an address or CIDR (e.g. 127.0.0.1/32, ::1/128)")
        ) {
            try configuration(["HERALD_ALLOW_PRIVATE": "127.0.0.1/32,localhost"])
        }
        #expect(throws: ConfigurationError(key: "HERALD_HTTPS_ONLY", problem: "'maybe' is not a boolean (use true or false)")) {
            try configuration(["HERALD_HTTPS_ONLY": "maybe"])
        }
    }
}
