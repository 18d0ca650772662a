import Foundation
import SecretAgentCore
import Testing
@testable import SecretAgentAWS

/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` as botocore's `ContainerMetadataFetcher` takes it: https,
/// or http to a loopback IP address or a known container credentials host, written literally;
/// user information is refused outright.
@Suite struct ContainerURITests {
    /// A chain whose only configured source is the container URI (no files, no metadata).
    func chain(_ uri: String) -> CredentialChain {
        makeBackend(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-token-not-for-others",
                     "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"]).context.chain
    }

    @Test(arguments: [
        "http://127.0.0.1@evil.example/creds",
        "http://127.0.0.1:80@evil.example/creds",
        "http://user:password@127.0.0.1/creds",
        "https://user@credentials.example/creds",
        "http://127.0.0.1%40evil.example/creds",
        "http://127.0.0.1\\@evil.example/creds",
        "http://127.evil.example/creds",
        "http://127.0.0.1.evil.example/creds",
        "http://localhost.evil.example/creds",
        "http://169.254.170.2.evil.example/creds",
        "http://127.1/creds",
        "http://0x7f000001/creds",
        "http://2130706433/creds",
        "http://[::ffff:127.0.0.1]/creds",
        "http://[fd00:ec2::24]/creds",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/role",
        "http://203.0.113.7/creds",
        "http://127.0.0.1:+80/creds",
        "ftp://127.0.0.1/creds",
        "127.0.0.1/creds",
    ])
    func rejected(uri: String) async {
        let error = await #expect(throws: AWSError.self) { try await chain(uri).credentials() }
        #expect(error?.exitCode == .config, "\(uri)")
        #expect(error?.message.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI") == true)
        let leaks = error?.message.contains("container-token-not-for-others") == true
        #expect(!leaks)
    }

    @Test func userInformationIsNamedAsSuch() {
        let error = #expect(throws: AWSError.self) { try CredentialSources.checkContainerURI("http://127.0.0.1@evil.example/") }
        #expect(error?.message.contains("user information") == true)
    }

    @Test(arguments: [
        "https://credentials.example/creds",
        "https://credentials.example:8443/v1?x=1",
        "http://127.0.0.1:51679/creds",
        "http://127.255.0.9/creds",
        "http://[::1]:8080/creds",
        "http://[0:0:0:0:0:0:0:1]/creds",
        "http://localhost:51679/2016-11-01/credentialprovider/",
        "HTTP://LOCALHOST/creds",
        "http://169.254.170.2/v2/credentials/id",
        "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials",
        "http://[fd00:ec2:0:0::23]:80/v1/credentials",
    ])
    func accepted(uri: String) throws {
        try CredentialSources.checkContainerURI(uri)
    }
}
