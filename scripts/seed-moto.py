#!/usr/bin/env python3
"""Seeds a moto server (signature checking still off) with the AWS fixtures the tests use.

    scripts/seed-moto.py http://127.0.0.1:PORT >> env

Prints only `export NAME=VALUE` lines: the access keys of the IAM users the tests sign with,
and ARNs that moto makes up. Everything else is fixed, so tests name the fixtures directly:

  SSM (us-east-1)       /docker/registry/url, /docker/registry/username (String)
                        /sa-test/secure (SecureString)
                        /sa-test/versioned (3 versions, label "stable" on version 2)
                        /sa-test/app/... (13 parameters: more than one page of 10)
                        /sa-test/batch/p01 … p25
  SSM (eu-west-1)       /sa-test/eu/param (for ARNs signed for another region)
  Secrets Manager       docker/registry/password
                        sa-test/json (a JSON object), sa-test/binary (SecretBinary)
                        sa-test/rotated (versions ROTATED_V1 → ROTATED_V2: AWSPREVIOUS, AWSCURRENT)
                        sa-test/batch/s01 … s25
  IAM                   secret-agent-test (everything), -nobatch, -denied (nothing), -process
                        (reads SSM), -assumer (may only assume secret-agent-external-role, which
                        reads SSM and wants ExternalId sa-external-7c1e); secret-agent-test-role
"""
import json
import sys

import boto3

ENDPOINT = sys.argv[1]
REGION = "us-east-1"
ROTATED_V1 = "11111111-1111-4111-8111-111111111111"
ROTATED_V2 = "22222222-2222-4222-8222-222222222222"
BINARY = bytes([0, 1, 2, 0xFE, 0xFF]) + b"binary\x80secret"


def client(service, region=REGION):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=region,
                        aws_access_key_id="seed", aws_secret_access_key="seed")


def user(iam, name, statements):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=f"{name}-inline",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def main():
    out = []
    iam = client("iam")
    allow_all = {"Effect": "Allow", "Action": ["ssm:*", "secretsmanager:*", "sts:*", "kms:*"], "Resource": "*"}
    key, secret = user(iam, "secret-agent-test", [allow_all])
    out += [("SECRET_AGENT_TEST_AWS_ACCESS_KEY_ID", key), ("SECRET_AGENT_TEST_AWS_SECRET_ACCESS_KEY", secret)]
    # May read secrets one by one but not call BatchGetSecretValue (the fallback path).
    key, secret = user(iam, "secret-agent-nobatch", [allow_all, {
        "Effect": "Deny", "Action": "secretsmanager:BatchGetSecretValue", "Resource": "*"}])
    out += [("SECRET_AGENT_TEST_AWS_NOBATCH_ACCESS_KEY_ID", key), ("SECRET_AGENT_TEST_AWS_NOBATCH_SECRET_ACCESS_KEY", secret)]
    # Valid credentials without permission to read anything.
    key, secret = user(iam, "secret-agent-denied", [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}])
    out += [("SECRET_AGENT_TEST_AWS_DENIED_ACCESS_KEY_ID", key), ("SECRET_AGENT_TEST_AWS_DENIED_SECRET_ACCESS_KEY", secret)]

    account = client("sts").get_caller_identity()["Account"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"],
                                                     "Principal": {"AWS": [f"arn:aws:iam::{account}:root",
                                                                                 f"arn:aws:iam::{account}:user/secret-agent-test"]}}]}
    role = iam.create_role(RoleName="secret-agent-test-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="secret-agent-test-role", PolicyName="read",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow_all]}))
    out.append(("SECRET_AGENT_TEST_AWS_ROLE_ARN", role))

    # credential_process: an identity that may read SSM parameters (moto authorizes SSM by
    # action only: it checks every SSM call against Resource "*").
    read_ssm = {"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"], "Resource": "*"}
    key, secret = user(iam, "secret-agent-process", [read_ssm])
    out += [("SECRET_AGENT_TEST_AWS_PROCESS_ACCESS_KEY_ID", key), ("SECRET_AGENT_TEST_AWS_PROCESS_SECRET_ACCESS_KEY", secret)]
    # credential_source with external_id: a user that may only assume secret-agent-external-role,
    # whose trust policy names that user and requires the ExternalId (moto refuses a wrong
    # ExternalId, but lets a missing one through) and which may read SSM parameters.
    key, secret = user(iam, "secret-agent-assumer", [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Resource": f"arn:aws:iam::{account}:role/secret-agent-external-role"}])
    out += [("SECRET_AGENT_TEST_AWS_ASSUMER_ACCESS_KEY_ID", key), ("SECRET_AGENT_TEST_AWS_ASSUMER_SECRET_ACCESS_KEY", secret)]
    external_trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{account}:user/secret-agent-assumer"},
        "Condition": {"StringEquals": {"sts:ExternalId": "sa-external-7c1e"}}}]}
    external = iam.create_role(RoleName="secret-agent-external-role", AssumeRolePolicyDocument=json.dumps(external_trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="secret-agent-external-role", PolicyName="read-ssm",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [read_ssm]}))
    out += [("SECRET_AGENT_TEST_AWS_EXTERNAL_ROLE_ARN", external), ("SECRET_AGENT_TEST_AWS_EXTERNAL_ID", "sa-external-7c1e")]

    ssm = client("ssm")
    ssm.put_parameter(Name="/docker/registry/url", Value="registry.example.com:5000", Type="String")
    ssm.put_parameter(Name="/docker/registry/username", Value="ci-deployer", Type="String")
    ssm.put_parameter(Name="/sa-test/secure", Value="secure-plaintext-7f3a", Type="SecureString")
    for i, value in enumerate(["version-one", "version-two", "version-three"]):
        ssm.put_parameter(Name="/sa-test/versioned", Value=value, Type="String", Overwrite=i > 0)
    ssm.label_parameter_version(Name="/sa-test/versioned", ParameterVersion=2, Labels=["stable"])
    ssm.put_parameter(Name="/sa-test/app/db/password", Value="app-db-pa55", Type="SecureString")
    ssm.put_parameter(Name="/sa-test/app/db/user", Value="app-user", Type="String")
    ssm.put_parameter(Name="/sa-test/app/hosts", Value="a.example,b.example", Type="StringList")
    for i in range(1, 11):
        ssm.put_parameter(Name=f"/sa-test/app/k{i:02d}", Value=f"app-value-{i:02d}", Type="String")
    for i in range(1, 26):
        ssm.put_parameter(Name=f"/sa-test/batch/p{i:02d}", Value=f"batch-param-{i:02d}", Type="String")
    eu = client("ssm", "eu-west-1")
    eu.put_parameter(Name="/sa-test/eu/param", Value="from-eu-west-1", Type="String")
    out.append(("SECRET_AGENT_TEST_SSM_EU_ARN", eu.get_parameter(Name="/sa-test/eu/param")["Parameter"]["ARN"]))

    sm = client("secretsmanager")
    password = sm.create_secret(Name="docker/registry/password", SecretString="Dr0ck3r-Regi5try-Pa55!")
    out.append(("SECRET_AGENT_TEST_SM_PASSWORD_ARN", password["ARN"]))
    sm.create_secret(Name="sa-test/json", SecretString=json.dumps(
        {"username": "json-user", "password": "json-pa55", "nested": {"port": 5432, "tags": ["a", "b"]}}))
    sm.create_secret(Name="sa-test/binary", SecretBinary=BINARY)
    sm.create_secret(Name="sa-test/rotated", SecretString="rotated-old-value", ClientRequestToken=ROTATED_V1)
    sm.put_secret_value(SecretId="sa-test/rotated", SecretString="rotated-new-value", ClientRequestToken=ROTATED_V2)
    for i in range(1, 26):
        sm.create_secret(Name=f"sa-test/batch/s{i:02d}", SecretString=f"batch-secret-{i:02d}")

    for name, value in out:
        print(f"export {name}={value}")


if __name__ == "__main__":
    main()
