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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
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
        .target(name: "HeraldTopology", dependencies: ["AMQP"]),

        // HTTP delivery over curl multi, outcome classification, backoff, destination guard.
        .target(
            name: "HeraldDelivery",
            dependencies: ["HeraldCore", "CCurl", .product(name: "Logging", package: "swift-log")]),

        // Benchmarks (not tests): see BENCHMARKS.md.
        .executableTarget(name: "amqp-bench", dependencies: ["AMQP"], path: "Benchmarks/amqp-bench"),
        .executableTarget(name: "signing-bench", dependencies: ["HeraldSigning"], path: "Benchmarks/signing-bench"),

        // Shared helpers for tests that need a real broker (the node started by scripts/test.sh).
        .target(name: "HeraldTestSupport", dependencies: ["AMQP"], path: "Tests/HeraldTestSupport"),
        .testTarget(name: "AMQPTests", dependencies: ["AMQP", "HeraldTestSupport"]),
        .testTarget(name: "HeraldTopologyTests", dependencies: ["HeraldTopology", "HeraldTestSupport"]),
        .testTarget(name: "HeraldCoreTests", dependencies: ["HeraldCore"]),
        .testTarget(name: "HeraldSigningTests", dependencies: ["HeraldSigning"]),
        .testTarget(name: "HeraldDeliveryTests", dependencies: ["HeraldDelivery"]),
    ],
    swiftLanguageModes: [.v6]
)
