import HeraldService
import HeraldSigner
import Testing

@Suite("The signer's settings: unset keys take the initialiser's defaults, set keys override them")
struct SignerConfigurationTests {
    @Test("an empty environment gives the initialiser's defaults")
    func defaults() throws {
        let got = try SignerConfiguration(environment: ServiceEnvironment([:]))
        #expect(got == SignerConfiguration(), "expected \(SignerConfiguration()), got \(got)")
        #expect(got.amqpURL == ServiceDefaults.amqpURL)
        #expect(got.databasePath == ServiceDefaults.databasePath)
    }

    @Test("each key overrides its default")
    func overrides() throws {
        let got = try SignerConfiguration(
            environment: ServiceEnvironment([
                "HERALD_AMQP_URL": "amqp://u:p@broker:5672/v", "HERALD_DATABASE_PATH": "/var/lib/herald/h.sqlite",
                "HERALD_OPS_HOST": "0.0.0.0", "HERALD_OPS_PORT": "0", "HERALD_SIGNER_PREFETCH": "8",
                "HERALD_SIGNER_STORE_BACKOFF": "250ms", "HERALD_SIGNER_CACHE_TTL": "2s",
            ]))
        let expected = SignerConfiguration(
            amqpURL: "amqp://u:p@broker:5672/v", databasePath: "/var/lib/herald/h.sqlite", opsHost: "0.0.0.0", opsPort: 0,
            prefetch: 8, failureBackoff: .milliseconds(250), endpointCacheTTL: .seconds(2))
        #expect(got == expected, "expected \(expected), got \(got)")
    }
}
