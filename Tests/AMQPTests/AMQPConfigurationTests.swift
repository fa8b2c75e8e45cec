import AMQP
import Testing

@Suite("Parsing AMQP URLs")
struct AMQPConfigurationTests {
    @Test("a full URL gives host, port, credentials and vhost")
    func fullURL() throws {
        let config = try AMQPConfiguration(url: "amqp://herald:s%40cret@rabbit.internal:5673/herald%2Fprod?heartbeat=15")
        #expect(config.host == "rabbit.internal")
        #expect(config.port == 5673)
        #expect(config.user == "herald")
        #expect(config.password == "s@cret")
        #expect(config.vhost == "herald/prod")
        #expect(config.heartbeatSeconds == 15)
        #expect(config.tls == nil)
    }

    @Test("no path means the default vhost, and defaults fill the rest")
    func defaults() throws {
        let config = try AMQPConfiguration(url: "amqp://localhost")
        #expect(config.vhost == "/")
        #expect(config.port == 5672)
        #expect(config.user == "guest")
        #expect(config.password == "guest")
        #expect(config.publishTimeout == .seconds(30))
        #expect(config.blockedPublishTimeout == .seconds(1), "got \(config.blockedPublishTimeout)")
    }

    @Test("%2F is the vhost named /")
    func slashVhost() throws {
        #expect(try AMQPConfiguration(url: "amqp://h/%2F").vhost == "/")
    }

    @Test("amqps uses TLS on 5671 with peer verification unless told otherwise")
    func tls() throws {
        let config = try AMQPConfiguration(url: "amqps://u:p@h?cacertfile=/etc/ca.pem&verify=verify_none")
        #expect(config.port == 5671)
        #expect(config.tls?.caCertificatePath == "/etc/ca.pem")
        #expect(config.tls?.verifyPeer == false)
        #expect(try AMQPConfiguration(url: "amqps://h").tls?.verifyPeer == true)
    }

    @Test("the description hides the password")
    func redaction() throws {
        let config = try AMQPConfiguration(url: "amqp://herald:topsecret@h:5672/v")
        #expect(!config.description.contains("topsecret"))
        #expect(config.description == "amqp://herald:***@h:5672/v")
    }

    @Test(
        "bad URLs are refused with a sentence naming the problem",
        arguments: [
            ("http://h/", "scheme must be amqp or amqps"),
            ("amqp://h/a/b", "one path segment"),
            ("amqp://h/?heartbeat=soon", "heartbeat must be a number"),
            ("amqp://h/?cacertfile=/x", "needs an amqps:// URL"),
            ("amqp://h/?frobnicate=1", "unknown option 'frobnicate'"),
        ])
    func invalid(url: String, expected: String) {
        do {
            _ = try AMQPConfiguration(url: url)
            Issue.record("expected \(url) to be refused")
        } catch let error as AMQPError {
            #expect(error.kind == .invalidConfiguration)
            #expect(error.message.contains(expected), "got: \(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("error labels are short snake_case forms of the kind")
    func labels() {
        #expect(AMQPError(.notFound, "x").label == "not_found")
        #expect(AMQPError(.preconditionFailed, "x").label == "precondition_failed")
    }
}
