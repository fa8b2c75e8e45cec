// swift-tools-version:6.0
// Herald: a webhook delivery pipeline on RabbitMQ. See README.md for the pipeline and DESIGN.md for why.
import PackageDescription

let package = Package(
    name: "Herald",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "AMQP", targets: ["AMQP"]),
        .library(name: "HeraldCore", targets: ["HeraldCore"]),
        .library(name: "HeraldSigning", targets: ["HeraldSigning"]),
        .library(name: "HeraldTopology", targets: ["HeraldTopology"]),
        .library(name: "HeraldDelivery", targets: ["HeraldDelivery"]),
        .executable(name: "herald-ingest", targets: ["herald-ingest"]),
        .executable(name: "herald-signer", targets: ["herald-signer"]),
        .executable(name: "herald-worker", targets: ["herald-worker"]),
        .executable(name: "heraldctl", targets: ["heraldctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C libraries from Debian, each behind a shim header for what Swift cannot call.
        .systemLibrary(
            name: "CRabbitMQ", pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),

        // Swift over the C libraries: no C type escapes these modules.
        .target(
            name: "AMQP",
            dependencies: ["CRabbitMQ", .product(name: "Logging", package: "swift-log")]),

        // Pure domain: the model and its wire forms, profiles and signing, the topology.
        .target(name: "HeraldCore"),
        .target(name: "HeraldSigning", dependencies: ["HeraldCore", "CCrypto"]),
        .target(name: "HeraldTopology", dependencies: ["AMQP", "HeraldCore"]),
        // Every queue message Herald publishes, built in one place (ids that fit AMQP by construction).
        .target(name: "HeraldMessages", dependencies: ["AMQP", "HeraldCore", "HeraldSigning"]),

        // HTTP delivery over curl multi, outcome classification, backoff, destination guard.
        .target(
            name: "HeraldDelivery",
            dependencies: ["HeraldCore", "CCurl", .product(name: "Logging", package: "swift-log")]),

        // What every service shares: configuration from the environment, logging and metrics
        // bootstrap, the operations HTTP server (/healthz, /readyz, /metrics).
        .target(
            name: "HeraldService",
            dependencies: [
                "AMQP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),

        // The endpoint store and delivery log (SQLite through GRDB now, PostgreSQL later).
        .target(
            name: "HeraldStore",
            dependencies: ["HeraldCore", "HeraldSigning", .product(name: "GRDB", package: "GRDB.swift")]),

        // Each service as a testable library, and its thin executable.
        .target(
            name: "HeraldIngest",
            dependencies: [
                "AMQP", "HeraldCore", "HeraldSigning", "HeraldStore", "HeraldTopology", "HeraldMessages", "HeraldService",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
        .target(
            name: "HeraldSigner",
            dependencies: ["AMQP", "HeraldCore", "HeraldSigning", "HeraldStore", "HeraldTopology", "HeraldMessages", "HeraldService"]),
        .target(
            name: "HeraldWorker",
            dependencies: ["AMQP", "HeraldCore", "HeraldDelivery", "HeraldTopology", "HeraldMessages", "HeraldService"]),
        .target(
            name: "HeraldCtl",
            dependencies: [
                "AMQP", "HeraldCore", "HeraldSigning", "HeraldTopology", "HeraldMessages", "HeraldService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
        .executableTarget(name: "herald-ingest", dependencies: ["HeraldIngest"]),
        .executableTarget(name: "herald-signer", dependencies: ["HeraldSigner"]),
        .executableTarget(name: "herald-worker", dependencies: ["HeraldWorker"]),
        .executableTarget(name: "heraldctl", dependencies: ["HeraldCtl"]),

        // Benchmarks (not tests): see BENCHMARKS.md.
        .executableTarget(name: "amqp-bench", dependencies: ["AMQP"], path: "Benchmarks/amqp-bench"),
        .executableTarget(name: "signing-bench", dependencies: ["HeraldSigning"], path: "Benchmarks/signing-bench"),
        .executableTarget(name: "signer-bench", dependencies: ["HeraldSigner"], path: "Benchmarks/signer", exclude: ["run.sh"]),
        .executableTarget(name: "worker-bench", dependencies: ["AMQP", "HeraldCore", "HeraldTopology"], path: "Benchmarks/worker", exclude: ["run.sh"]),

        // Shared helpers for tests that need a real broker (the node started by scripts/test.sh) or
        // a real HTTP receiver on 127.0.0.1, and the test-only ExampleProfile.
        .target(
            name: "HeraldTestSupport", dependencies: ["AMQP", "HeraldSigning"], path: "Tests/HeraldTestSupport",
            exclude: ["Fixtures"]),  // receiver.py, found through TestReceiver.swift's #filePath
        .testTarget(name: "AMQPTests", dependencies: ["AMQP", "HeraldTestSupport"]),
        .testTarget(name: "HeraldTopologyTests", dependencies: ["HeraldTopology", "HeraldTestSupport"]),
        .testTarget(name: "HeraldCoreTests", dependencies: ["HeraldCore"]),
        .testTarget(name: "HeraldMessagesTests", dependencies: ["HeraldMessages"]),
        .testTarget(name: "HeraldSigningTests", dependencies: ["HeraldSigning", "HeraldTestSupport"], exclude: ["Verifiers"]),
        .testTarget(name: "HeraldDeliveryTests", dependencies: ["HeraldDelivery", "HeraldTestSupport"]),
        .testTarget(name: "HeraldStoreTests", dependencies: ["HeraldStore"]),
        .testTarget(name: "HeraldIngestTests", dependencies: ["HeraldIngest", "HeraldTopology", "HeraldTestSupport"]),
        .testTarget(name: "HeraldSignerTests", dependencies: ["HeraldSigner", "HeraldTestSupport"]),
        .testTarget(name: "HeraldWorkerTests", dependencies: ["HeraldWorker", "HeraldSigning", "HeraldTestSupport"]),
        .testTarget(name: "HeraldCtlTests", dependencies: ["HeraldCtl", "HeraldTestSupport"]),
        // The whole pipeline in one process (ingest, signer, worker) on a real broker.
        .testTarget(
            name: "HeraldPipelineTests",
            dependencies: ["HeraldIngest", "HeraldSigner", "HeraldWorker", "HeraldStore", "HeraldDelivery", "HeraldTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
