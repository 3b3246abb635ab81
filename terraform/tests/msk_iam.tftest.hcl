# IAM authentication to MSK: always on MSK Serverless, and on the provisioned cluster with
# msk_client_authentication = "iam". The programs connect with KAFKA_SASL_MECHANISM=aws-msk-iam,
# and kafka_client_settings holds every setting they need. Runs offline with mock_provider.

mock_provider "aws" {
  source = "./tests/mocks"

  override_resource {
    target = aws_security_group.kafka
    values = { id = "sg-0fedcba9876543210" }
  }
}

variables {
  region                          = "eu-west-1"
  vpc_id                          = "vpc-0a1b2c3d4e5f60718"
  private_subnet_ids              = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722", "subnet-0a1b2c3d4e5f60733"]
  worker_security_group_id        = "sg-0a1b2c3d4e5f6feed"
  kafka_client_security_group_ids = ["sg-0a1b2c3d4e5f6beef"]
}

# No expect_failures: a failing check block (the old "programs cannot connect" warning) would
# fail this run.
run "serverless_msk_is_iam_on_port_9098_without_a_warning" {
  variables {
    msk_mode = "serverless"
  }

  assert {
    condition     = length(aws_msk_serverless_cluster.this) == 1 && length(aws_msk_cluster.this) == 0 && length(aws_msk_configuration.this) == 0
    error_message = "msk_mode = serverless must create one serverless cluster and no provisioned one"
  }
  assert {
    condition     = one(one(one(aws_msk_serverless_cluster.this[0].client_authentication).sasl).iam).enabled == true
    error_message = "MSK Serverless must use IAM authentication"
  }
  assert {
    condition     = one(aws_msk_serverless_cluster.this[0].vpc_config).subnet_ids == toset(var.private_subnet_ids) && one(aws_msk_serverless_cluster.this[0].vpc_config).security_group_ids == toset(["sg-0fedcba9876543210"])
    error_message = "MSK Serverless must sit in the private subnets behind the Kafka security group"
  }
  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.kafka_from_clients : r.referenced_security_group_id]) == toset(["sg-0a1b2c3d4e5f6feed", "sg-0a1b2c3d4e5f6beef"])
    error_message = "only the workers' and the listed client security groups may reach MSK Serverless"
  }
  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.kafka_from_clients : r.from_port == 9098 && r.to_port == 9098 && r.cidr_ipv4 == null])
    error_message = "MSK Serverless must be reachable on the SASL/IAM port 9098 only, from security groups only"
  }
  assert {
    condition     = output.kafka_brokers == "boot-abc123de.c2.kafka-serverless.eu-west-1.amazonaws.com:9098"
    error_message = "kafka_brokers must be the serverless cluster's SASL/IAM bootstrap server: ${coalesce(output.kafka_brokers, "null")}"
  }
  assert {
    condition = output.kafka_client_settings == {
      KAFKA_BROKERS        = "boot-abc123de.c2.kafka-serverless.eu-west-1.amazonaws.com:9098"
      KAFKA_SSL            = "true"
      KAFKA_SASL_MECHANISM = "aws-msk-iam"
      AWS_REGION           = "eu-west-1"
    }
    error_message = "kafka_client_settings must hold every setting the programs need for MSK Serverless: the IAM bootstrap server, TLS, aws-msk-iam and the region"
  }
  assert {
    condition     = output.kafka_cluster_arn == aws_msk_serverless_cluster.this[0].arn
    error_message = "kafka_cluster_arn must name the serverless cluster"
  }
  assert {
    condition     = length(aws_secretsmanager_secret.kafka_scram) == 0 && output.kafka_scram_secret_arn == null && output.kafka_client_policy_json == null
    error_message = "MSK Serverless has no SCRAM user: no secret, and nothing to read"
  }
}

run "provisioned_msk_with_iam_refuses_everything_but_sasl_iam" {
  variables {
    msk_mode                  = "provisioned"
    msk_client_authentication = "iam"
  }

  assert {
    condition     = one(aws_msk_cluster.this[0].client_authentication).unauthenticated == false
    error_message = "with IAM, unauthenticated clients must be refused"
  }
  assert {
    condition     = one(one(aws_msk_cluster.this[0].client_authentication).sasl).iam == true && one(one(aws_msk_cluster.this[0].client_authentication).sasl).scram == false && length(one(aws_msk_cluster.this[0].client_authentication).tls) == 0
    error_message = "msk_client_authentication = iam: SASL/IAM on, neither SCRAM nor mutual TLS"
  }
  assert {
    condition     = one(one(aws_msk_cluster.this[0].encryption_info).encryption_in_transit).client_broker == "TLS"
    error_message = "SASL/IAM runs over TLS: clients must still talk TLS to the brokers"
  }
  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.kafka_from_clients : r.from_port == 9098 && r.to_port == 9098 && r.cidr_ipv4 == null]) && length(aws_vpc_security_group_ingress_rule.kafka_from_clients) == 2
    error_message = "with IAM the Kafka security group must open only the SASL/IAM port, to the two client security groups"
  }
  assert {
    condition     = output.kafka_brokers == "b-1.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9098"
    error_message = "with IAM, kafka_brokers must be the SASL/IAM bootstrap servers: ${coalesce(output.kafka_brokers, "null")}"
  }
  assert {
    condition = output.kafka_client_settings == {
      KAFKA_BROKERS        = "b-1.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9098"
      KAFKA_SSL            = "true"
      KAFKA_SASL_MECHANISM = "aws-msk-iam"
      AWS_REGION           = "eu-west-1"
    }
    error_message = "kafka_client_settings must hold every setting the programs need for IAM, and no SCRAM user"
  }
  assert {
    condition     = length(aws_secretsmanager_secret.kafka_scram) == 0 && length(aws_msk_single_scram_secret_association.kafka_scram) == 0 && output.kafka_scram_secret_arn == null && output.kafka_client_policy_json == null
    error_message = "with IAM there is no SCRAM user: no secret, no association, nothing to read"
  }
}
