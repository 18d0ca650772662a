// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "secret-agent",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "secret-agent", targets: ["secret-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // References and the template engine: parse, report references, render. No I/O.
        .target(name: "SecretTemplate"),
        // Small C shims for Linux calls Swift's Glibc module does not expose.
        .target(name: "CSecretAgent"),
        // libyaml's header (Debian: libyaml-dev), the C reference YAML parser the configuration is read with.
        .systemLibrary(name: "CYAML", providers: [.apt(["libyaml-dev"])]),
        // Configuration, the provider protocol, errors and exit codes, the file: and env:
        // providers, logging, and the helpers every module shares (backoff, durations, metric names).
        .target(name: "SecretAgentCore", dependencies: [
            "SecretTemplate", "CSecretAgent", "CYAML",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ],
        // libyaml, linked statically: the binary needs no libyaml at run time.
        linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libyaml.a"])]),
        // SigV4, the AWS credential chain, SSM Parameter Store and Secrets Manager.
        .target(name: "SecretAgentAWS", dependencies: [
            "SecretAgentCore", "SecretTemplate",
            "SecretAgentProcess", // credential_process runs through ChildProcess
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // The Vault / OpenBao client, auth methods, KV and leases.
        .target(name: "SecretAgentVault", dependencies: [
            "SecretAgentCore", "SecretTemplate",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // The child process: spawn, signals, reaping, graceful stop (no secrets logic here; the
        // core module only for its error protocol and exit codes).
        .target(name: "SecretAgentProcess", dependencies: [
            "SecretAgentCore", "CSecretAgent",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Resolving, rendering, the atomic writer, the agent loop, inotify.
        .target(name: "SecretAgentRuntime", dependencies: [
            "SecretAgentCore", "SecretAgentProcess", "SecretTemplate", "CSecretAgent",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Operations: sd_notify, the /healthz and /metrics listener, metrics, the cost plan (which
        // reads ARN regions through the AWS module).
        .target(name: "SecretAgentOps", dependencies: [
            "SecretAgentCore", "SecretAgentAWS", "SecretTemplate",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // The local secrets API: the AWS Secrets Manager Agent / Lambda extension protocol and
        // /v1/ref for every backend, served from a bounded cache kept fresh by version polls.
        .target(name: "SecretAgentServe", dependencies: [
            "SecretAgentCore", "SecretAgentAWS", "SecretAgentOps", "SecretTemplate",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // The agent as a library: one lifecycle (prepare, write, start the child, watch, reload,
        // shut down) as a swift-service-lifecycle Service, backends built through a factory, and
        // the one-shot operations (render, get, check).
        .target(name: "SecretAgent", dependencies: [
            "SecretTemplate", "SecretAgentCore", "SecretAgentRuntime", "SecretAgentProcess", "SecretAgentAWS", "SecretAgentVault",
            "SecretAgentOps", "SecretAgentServe",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The command line: argument parsing and the mapping to exit codes, one file per command.
        .executableTarget(name: "secret-agent", dependencies: [
            "SecretAgent", "SecretAgentCore", "SecretAgentProcess", "SecretAgentOps", "CSecretAgent",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // A tiny child for the end-to-end tests: records its environment and the signals it gets.
        .executableTarget(name: "test-child"),

        .testTarget(name: "SecretTemplateTests", dependencies: ["SecretTemplate"]),
        .testTarget(name: "SecretAgentCoreTests", dependencies: ["SecretAgentCore", "SecretTemplate"]),
        .testTarget(name: "SecretAgentAWSTests", dependencies: [
            "SecretAgentAWS", "SecretAgentCore", "SecretTemplate",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "SecretAgentVaultTests", dependencies: [
            "SecretAgentVault", "SecretAgentCore", "SecretTemplate",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "MetricsTestKit", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "SecretAgentProcessTests", dependencies: ["SecretAgentProcess", "SecretAgentCore", "CSecretAgent"]),
        .testTarget(name: "SecretAgentRuntimeTests", dependencies: [
            "SecretAgentRuntime", "SecretAgentCore", "SecretTemplate",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "SecretAgentOpsTests", dependencies: [
            "SecretAgentOps", "SecretAgentCore", "SecretTemplate",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "SecretAgentServeTests", dependencies: [
            "SecretAgentServe", "SecretAgentAWS", "SecretAgentOps", "SecretAgentCore", "SecretTemplate",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "SecretAgentTests", dependencies: [
            "SecretAgent", "SecretAgentCore", "SecretAgentRuntime", "SecretTemplate",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "EndToEndTests", dependencies: ["SecretAgentCore"]),
    ]
)
