@testable import SecretTemplate
import Testing

@Suite struct ReferenceTests {
    @Test func ssmPlainVersionAndLabel() throws {
        #expect(try Reference.parse("ssm:/docker/registry/username").locator == .ssm(name: "/docker/registry/username", selector: nil))
        let pinned = try Reference.parse("ssm:/db/password:3")
        #expect(pinned.locator == .ssm(name: "/db/password", selector: "3"))
        #expect(pinned.locator.isPinned)
        #expect(try Reference.parse("ssm:/db/password:prod").locator == .ssm(name: "/db/password", selector: "prod"))
        #expect(!(try Reference.parse("ssm:/db/password").locator.isPinned))
    }

    @Test func ssmPath() throws {
        #expect(try Reference.parse("ssm-path:/app/prod/").locator == .ssmPath(path: "/app/prod/"))
        #expect(throws: TemplateError.self) { try Reference.parse("ssm-path:app/prod") }
    }

    @Test func secretsManagerStageAndVersion() throws {
        #expect(try Reference.parse("sm:docker/registry/password").locator
            == .secretsManager(id: "docker/registry/password", stage: nil, versionID: nil))
        let previous = try Reference.parse("sm:prod/db?stage=AWSPREVIOUS")
        #expect(previous.locator == .secretsManager(id: "prod/db", stage: "AWSPREVIOUS", versionID: nil))
        #expect(previous.locator.isPinned)
        #expect(try Reference.parse("sm:prod/db?version-id=0b1c-2d").locator
            == .secretsManager(id: "prod/db", stage: nil, versionID: "0b1c-2d"))
        #expect(throws: TemplateError.self) { try Reference.parse("sm:prod/db?colour=blue") }
    }

    @Test func vaultVersionAndWriteParameters() throws {
        #expect(try Reference.parse("vault:secret/docker/registry").locator == .vault(path: "secret/docker/registry", version: nil, parameters: [:]))
        #expect(try Reference.parse("vault:secret/docker/registry?version=2").locator == .vault(path: "secret/docker/registry", version: 2, parameters: [:]))
        #expect(try Reference.parse("vault:database/creds/app").locator == .vault(path: "database/creds/app", version: nil, parameters: [:]))
        #expect(try Reference.parse("vault:pki/issue/web?common_name=a.example.com&ttl=1h").locator
            == .vault(path: "pki/issue/web", version: nil, parameters: ["common_name": "a.example.com", "ttl": "1h"]))
        #expect(throws: TemplateError.self) { try Reference.parse("vault:secret/x?version=0") }
    }

    @Test func fileRelativeAndAbsolute() throws {
        #expect(try Reference.parse("file:/etc/app/secrets.json").locator == .file(path: "/etc/app/secrets.json"))
        #expect(try Reference.parse("file:secrets.json", baseDirectory: "/etc/app").locator == .file(path: "/etc/app/secrets.json"))
        #expect(try Reference.parse("file:secrets.json", baseDirectory: "/etc/app/").locator == .file(path: "/etc/app/secrets.json"))
        #expect(try Reference.parse("file:/abs.json", baseDirectory: "/etc/app").locator == .file(path: "/abs.json"))
        #expect(try Reference.parse("file:rel.json").locator == .file(path: "rel.json"))
    }

    @Test func env() throws {
        #expect(try Reference.parse("env:DB_PASSWORD").locator == .env(name: "DB_PASSWORD"))
        #expect(throws: TemplateError.self) { try Reference.parse("env:1BAD") }
    }

    @Test func arns() throws {
        let sm = try Reference.parse("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf#password")
        #expect(sm.locator == .secretsManager(id: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf", stage: nil, versionID: nil))
        #expect(sm.selector == .field("password"))
        let ssm = try Reference.parse("arn:aws:ssm:us-east-2:123456789012:parameter/db/password:3")
        #expect(ssm.locator == .ssm(name: "arn:aws:ssm:us-east-2:123456789012:parameter/db/password", selector: "3"))
        #expect(throws: TemplateError.self) { try Reference.parse("arn:aws:s3:::bucket") }
    }

    /// The template module only recognises an ARN and keeps it as the name: whether its region is
    /// a region name is checked by the AWS module (`ARNTests` there), before anything is sent.
    @Test(arguments: [
        "arn:aws:secretsmanager:evil.example/x:123456789012:secret:prod/db-AbCdEf",
        "arn:aws:ssm:us-east-1.evil.example:123456789012:parameter/db/password",
    ])
    func arnKeepsTheARNAsWritten(text: String) throws {
        let reference = try Reference.parse(text)
        #expect(reference.locator.text.hasSuffix(text))
    }

    /// An ARN without a region is not a full ARN: a reference error naming the reference.
    @Test func arnNeedsARegion() {
        let text = "arn:aws:ssm::123456789012:parameter/db/password"
        let error = #expect(throws: TemplateError.self) { try Reference.parse(text) }
        #expect(error?.kind == .badReference)
        #expect(error?.message.contains(text) == true)
    }

    @Test func fieldAndPointer() throws {
        #expect(try Reference.parse("sm:prod/db#password").selector == .field("password"))
        let pointer = try Reference.parse("vault:secret/x#/a~1b/c~0d/0")
        #expect(pointer.selector == .pointer(["a/b", "c~d", "0"]))
        #expect(pointer.locator == .vault(path: "secret/x", version: nil, parameters: [:]))
        let doc = json(#"{"a/b": {"c~d": ["first"]}, "password": "pw"}"#)
        #expect(try pointer.select(from: doc) == .string("first"))
        #expect(try Reference.parse("sm:prod/db#password").select(from: doc) == .string("pw"))
        #expect(try Reference.parse("sm:prod/db#nope").select(from: doc) == nil)
        #expect(try Reference.parse("sm:prod/db#/a~1b/zz").select(from: doc) == nil)
    }

    @Test func fieldOnNonJSONIsAnErrorNotQuotingTheValue() throws {
        let reference = try Reference.parse("sm:prod/db#password")
        let error = #expect(throws: TemplateError.self) { try reference.select(from: .string("hunter2")) }
        #expect(error?.kind == .data)
        #expect(error?.message.contains("hunter2") == false)
    }

    @Test func twoFieldsShareOneLocator() throws {
        let a = try Reference.parse("sm:prod/db#username")
        let b = try Reference.parse("sm:prod/db#password")
        #expect(a.locator == b.locator)
        #expect(a != b)
    }

    @Test(arguments: [
        ("nope:/x", "unknown scheme"),
        ("sm:prod/db#", "empty field"),
        ("sm:prod/db#/a~2", "JSON Pointer"),
        ("ssm:/db/password?x=1", "no query"),
    ])
    func errors(text: String, fragment: String) {
        let error = #expect(throws: TemplateError.self) { try Reference.parse(text) }
        #expect(error?.kind == .badReference)
        #expect(error?.message.contains(fragment) == true)
    }

    @Test func looksLikeReference() {
        #expect(Reference.looksLikeReference("sm:x"))
        #expect(Reference.looksLikeReference("arn:aws:ssm:x"))
        #expect(Reference.looksLikeReference("nope:x"))
        #expect(!Reference.looksLikeReference("username"))
        #expect(!Reference.looksLikeReference("a.b.c"))
        #expect(!Reference.looksLikeReference(".ID"))
    }
}
