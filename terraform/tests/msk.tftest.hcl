# Optional Amazon MSK: off by default, or provisioned with SASL/SCRAM (the default) or TLS only.
# IAM authentication (MSK Serverless, or msk_client_authentication = "iam") is in
# msk_iam.tftest.hcl. Runs offline with mock_provider.

mock_provider "aws" {
  source = "./tests/mocks"

  override_resource {
    target = aws_security_group.kafka
    values = { id = "sg-0fedcba9876543210" }
  }
}

variables {
  region                   = "eu-west-1"
  vpc_id                   = "vpc-0a1b2c3d4e5f60718"
  private_subnet_ids       = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722", "subnet-0a1b2c3d4e5f60733"]
  worker_security_group_id = "sg-0a1b2c3d4e5f6feed"
}

run "no_msk_by_default" {
  command = plan

  assert {
    condition     = length(aws_msk_cluster.this) == 0 && length(aws_msk_serverless_cluster.this) == 0 && length(aws_security_group.kafka) == 0 && length(aws_vpc_security_group_ingress_rule.kafka_from_clients) == 0
    error_message = "msk_mode defaults to none: no MSK resources"
  }
  assert {
    condition     = length(aws_secretsmanager_secret.kafka_scram) == 0 && length(aws_msk_single_scram_secret_association.kafka_scram) == 0
    error_message = "without MSK there is no SCRAM user, even though msk_client_authentication defaults to scram"
  }
  assert {
    condition     = output.kafka_client_settings == null && output.kafka_scram_secret_arn == null && output.kafka_client_policy_json == null
    error_message = "without MSK the Kafka client outputs must be null"
  }
}

run "provisioned_msk_with_tls_is_private_encrypted_and_unauthenticated" {
  variables {
    msk_mode                        = "provisioned"
    msk_client_authentication       = "tls"
    kafka_client_security_group_ids = ["sg-0a1b2c3d4e5f6beef"]
  }

  assert {
    condition     = length(aws_msk_cluster.this) == 1 && length(aws_msk_serverless_cluster.this) == 0
    error_message = "msk_mode = provisioned must create one provisioned cluster and no serverless one"
  }
  assert {
    condition     = one(aws_msk_cluster.this[0].encryption_info).encryption_at_rest_kms_key_arn == aws_kms_key.this.arn
    error_message = "MSK volumes must be encrypted with the module's key"
  }
  assert {
    condition     = one(one(aws_msk_cluster.this[0].encryption_info).encryption_in_transit).client_broker == "TLS"
    error_message = "clients must talk TLS to the brokers"
  }
  assert {
    condition     = one(aws_msk_cluster.this[0].broker_node_group_info).client_subnets == toset(var.private_subnet_ids) && one(aws_msk_cluster.this[0].broker_node_group_info).security_groups == toset(["sg-0fedcba9876543210"])
    error_message = "brokers must sit in the private subnets behind the Kafka security group"
  }
  assert {
    condition     = strcontains(aws_msk_configuration.this[0].server_properties, "auto.create.topics.enable=false")
    error_message = "MSK must not create topics automatically"
  }
  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.kafka_from_clients : r.referenced_security_group_id]) == toset(["sg-0a1b2c3d4e5f6feed", "sg-0a1b2c3d4e5f6beef"])
    error_message = "only the workers' and the listed client security groups may reach MSK"
  }
  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.kafka_from_clients : r.from_port == 9094 && r.to_port == 9094 && r.cidr_ipv4 == null && r.security_group_id == "sg-0fedcba9876543210"])
    error_message = "the Kafka security group must open only the TLS port, to security groups only"
  }
  assert {
    condition     = output.kafka_brokers == aws_msk_cluster.this[0].bootstrap_brokers_tls && output.kafka_cluster_arn == aws_msk_cluster.this[0].arn
    error_message = "kafka_brokers must be the TLS bootstrap servers"
  }
  assert {
    condition     = one(aws_msk_cluster.this[0].client_authentication).unauthenticated == true && one(one(aws_msk_cluster.this[0].client_authentication).sasl).scram == false && one(one(aws_msk_cluster.this[0].client_authentication).sasl).iam == false
    error_message = "msk_client_authentication = tls keeps TLS without client authentication, SCRAM and IAM off"
  }
  assert {
    condition     = length(aws_secretsmanager_secret.kafka_scram) == 0 && length(aws_secretsmanager_secret_policy.kafka_scram) == 0 && length(aws_msk_single_scram_secret_association.kafka_scram) == 0
    error_message = "without SCRAM there is no SCRAM user secret and no association"
  }
  assert {
    condition = output.kafka_client_settings == {
      KAFKA_BROKERS = "b-1.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9094,b-2.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9094"
      KAFKA_SSL     = "true"
    }
    error_message = "with TLS only, the programs need KAFKA_BROKERS and KAFKA_SSL=true, no SASL setting"
  }
  assert {
    condition     = output.kafka_scram_secret_arn == null && output.kafka_client_policy_json == null
    error_message = "without SCRAM there is no secret to name and nothing to read"
  }
}

run "provisioned_msk_uses_scram_by_default" {
  variables {
    msk_mode                        = "provisioned"
    kafka_client_security_group_ids = ["sg-0a1b2c3d4e5f6beef"]
  }

  assert {
    condition     = one(aws_msk_cluster.this[0].client_authentication).unauthenticated == false
    error_message = "with SCRAM, unauthenticated clients must be refused"
  }
  assert {
    condition     = one(one(aws_msk_cluster.this[0].client_authentication).sasl).scram == true && one(one(aws_msk_cluster.this[0].client_authentication).sasl).iam != true && length(one(aws_msk_cluster.this[0].client_authentication).tls) == 0
    error_message = "msk_client_authentication defaults to scram: SASL/SCRAM on, neither IAM nor mutual TLS"
  }
  assert {
    condition     = one(one(aws_msk_cluster.this[0].encryption_info).encryption_in_transit).client_broker == "TLS"
    error_message = "SCRAM runs over TLS: clients must still talk TLS to the brokers"
  }
  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.kafka_from_clients : r.from_port == 9096 && r.to_port == 9096 && r.cidr_ipv4 == null]) && length(aws_vpc_security_group_ingress_rule.kafka_from_clients) == 2
    error_message = "with SCRAM the Kafka security group must open only the SASL/SCRAM port, to the two client security groups"
  }
  assert {
    condition     = startswith(aws_secretsmanager_secret.kafka_scram[0].name_prefix, "AmazonMSK_")
    error_message = "MSK accepts only secrets whose name starts with AmazonMSK_ (a prefix, so a deleted secret's name is not in the way)"
  }
  assert {
    condition     = aws_secretsmanager_secret.kafka_scram[0].kms_key_id == aws_kms_key.this.arn
    error_message = "MSK refuses secrets under the AWS-managed key: the SCRAM secret must use the module's key"
  }
  assert {
    condition     = aws_msk_single_scram_secret_association.kafka_scram[0].cluster_arn == aws_msk_cluster.this[0].arn && aws_msk_single_scram_secret_association.kafka_scram[0].secret_arn == aws_secretsmanager_secret.kafka_scram[0].arn
    error_message = "the SCRAM secret must be associated with the cluster"
  }
  assert {
    condition = jsondecode(aws_secretsmanager_secret_policy.kafka_scram[0].policy).Statement == [{
      Sid       = "AWSKafkaResourcePolicy"
      Effect    = "Allow"
      Principal = { Service = "kafka.amazonaws.com" }
      Action    = "secretsmanager:getSecretValue"
      Resource  = aws_secretsmanager_secret.kafka_scram[0].arn
    }]
    error_message = "only MSK may read the SCRAM secret through its resource policy: ${aws_secretsmanager_secret_policy.kafka_scram[0].policy}"
  }
  assert {
    condition     = output.kafka_brokers == "b-1.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9096,b-2.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9096"
    error_message = "with SCRAM, kafka_brokers must be the SASL/SCRAM bootstrap servers: ${output.kafka_brokers}"
  }
  assert {
    condition = output.kafka_client_settings == {
      KAFKA_BROKERS        = "b-1.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9096,b-2.userpipelinekafka.abc.c2.kafka.eu-west-1.amazonaws.com:9096"
      KAFKA_SSL            = "true"
      KAFKA_SASL_MECHANISM = "scram-sha-512"
      KAFKA_SASL_USERNAME  = "user-pipeline"
    }
    error_message = "kafka_client_settings must hold every KAFKA_* setting but the password"
  }
  assert {
    condition     = output.kafka_scram_secret_arn == aws_secretsmanager_secret.kafka_scram[0].arn
    error_message = "kafka_scram_secret_arn must name the SCRAM secret"
  }
  assert {
    condition = jsondecode(output.kafka_client_policy_json).Statement == [
      {
        Sid      = "ReadKafkaScramSecret"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = aws_secretsmanager_secret.kafka_scram[0].arn
      },
      {
        Sid      = "DecryptKafkaScramSecret"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = aws_kms_key.this.arn
        Condition = {
          StringEquals = {
            "kms:ViaService"                  = "secretsmanager.eu-west-1.amazonaws.com"
            "kms:EncryptionContext:SecretARN" = aws_secretsmanager_secret.kafka_scram[0].arn
          }
        }
      },
    ]
    error_message = "the client policy must allow reading that one secret and decrypting it through Secrets Manager, nothing else: ${output.kafka_client_policy_json}"
  }
}

run "scram_association_waits_for_the_password" {
  # With real AWS the versions are read during the first apply, after the cluster is created; the
  # mock knows them at plan time, where the precondition fails the same way.
  command = plan

  variables {
    msk_mode = "provisioned"
  }

  # The operator has not put the password in yet: the secret has no AWSCURRENT version.
  override_data {
    target = data.aws_secretsmanager_secret_versions.kafka_scram
    values = { versions = [] }
  }

  expect_failures = [aws_msk_single_scram_secret_association.kafka_scram]
}

run "scram_user_name_follows_name" {
  command = plan

  variables {
    msk_mode = "provisioned"
    name     = "events-prod"
  }

  assert {
    condition     = startswith(aws_secretsmanager_secret.kafka_scram[0].name_prefix, "AmazonMSK_events-prod-")
    error_message = "the SCRAM secret's name must start with AmazonMSK_ and the module's name"
  }
}

run "broker_count_must_fit_the_subnets" {
  command = plan

  variables {
    msk_mode         = "provisioned"
    msk_broker_count = 4
  }

  expect_failures = [aws_msk_cluster.this]
}

run "two_brokers_cannot_hold_three_replicas" {
  command = plan

  variables {
    msk_mode         = "provisioned"
    msk_broker_count = 2
  }

  expect_failures = [var.msk_broker_count]
}

run "unknown_msk_mode_is_rejected" {
  command = plan

  variables {
    msk_mode = "kinesis"
  }

  expect_failures = [var.msk_mode]
}

run "unknown_client_authentication_is_rejected" {
  command = plan

  variables {
    msk_mode                  = "provisioned"
    msk_client_authentication = "mtls"
  }

  expect_failures = [var.msk_client_authentication]
}
