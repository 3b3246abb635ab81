# Realistic values for the attributes AWS computes, so that the tests can assert ARNs, policies
# and URLs. Everything else the mock provider fills in by itself.

mock_data "aws_region" {
  defaults = {
    name = "eu-west-1"
  }
}

mock_resource "aws_kms_key" {
  defaults = {
    arn    = "arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    key_id = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    id     = "user-pipeline-staging-20261124000000000000000001"
    bucket = "user-pipeline-staging-20261124000000000000000001"
    arn    = "arn:aws:s3:::user-pipeline-staging-20261124000000000000000001"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::111122223333:role/user-pipeline-redshift-20261124000000000000000002"
  }
}

mock_resource "aws_vpc_endpoint" {
  defaults = {
    prefix_list_id = "pl-6da54004"
  }
}

mock_resource "aws_security_group" {
  defaults = {
    id = "sg-0123456789abcdef0"
  }
}

mock_resource "aws_redshift_cluster" {
  defaults = {
    dns_name                   = "user-pipeline-warehouse.abc123xyz.eu-west-1.redshift.amazonaws.com"
    master_password_secret_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:redshift!user-pipeline-warehouse-admin-AbCdEf"
  }
}

mock_resource "aws_redshiftserverless_namespace" {
  defaults = {
    admin_password_secret_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:redshift!user-pipeline-warehouse-admin-GhIjKl"
  }
}

mock_resource "aws_redshiftserverless_workgroup" {
  defaults = {
    endpoint = [{
      address      = "user-pipeline-warehouse.111122223333.eu-west-1.redshift-serverless.amazonaws.com"
      port         = 5439
      vpc_endpoint = []
    }]
  }
}

# MSK cluster ARNs end in the cluster's name and UUID (with a suffix MSK adds); topic and group
# ARNs repeat both.
mock_resource "aws_msk_cluster" {
  defaults = {
    arn                          = "arn:aws:kafka:eu-west-1:111122223333:cluster/user-pipeline-kafka/3c5a7b1e-2f4d-4e6a-9b8c-0d1e2f3a4b5c-2"
    cluster_uuid                 = "3c5a7b1e-2f4d-4e6a-9b8c-0d1e2f3a4b5c-2"
    bootstrap_brokers_tls        = "b-1.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9094,b-2.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9094"
    bootstrap_brokers_sasl_scram = "b-1.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9096,b-2.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9096"
    bootstrap_brokers_sasl_iam   = "b-1.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9098"
  }
}

mock_resource "aws_msk_serverless_cluster" {
  defaults = {
    arn                        = "arn:aws:kafka:eu-west-1:111122223333:cluster/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1"
    cluster_uuid               = "7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1"
    bootstrap_brokers_sasl_iam = "boot-abc123de.c2.kafka-serverless.eu-west-1.amazonaws.com:9098"
  }
}

mock_resource "aws_msk_configuration" {
  defaults = {
    arn             = "arn:aws:kafka:eu-west-1:111122223333:configuration/user-pipeline-kafka/0a1b2c3d-c"
    latest_revision = 1
  }
}

mock_resource "aws_secretsmanager_secret" {
  defaults = {
    arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:AmazonMSK_user-pipeline-20261124000000000000000003-MnOpQr"
  }
}

# The operator has put the SCRAM password in: one version carries AWSCURRENT. A test that wants
# the empty secret overrides `versions`.
mock_data "aws_secretsmanager_secret_versions" {
  defaults = {
    versions = [{
      version_id         = "0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"
      version_stages     = ["AWSCURRENT"]
      created_time       = "2026-11-24T00:00:00Z"
      last_accessed_date = "2026-11-24T00:00:00Z"
    }]
  }
}
