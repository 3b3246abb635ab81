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

# The mock serverless cluster's ARN is
#   arn:aws:kafka:eu-west-1:111122223333:cluster/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1
# and topic and group ARNs repeat its name and UUID after "topic/" or "group/".
run "serverless_policies_give_each_program_its_topics_and_groups_and_nothing_else" {
  variables {
    msk_mode = "serverless"
  }

  assert {
    condition = jsondecode(output.ingest_kafka_policy_json) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "ConnectAndProduceIdempotently"
          Effect   = "Allow"
          Action   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:cluster/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1"
        },
        {
          Sid      = "WriteEvents"
          Effect   = "Allow"
          Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user_created"
        },
      ]
    }
    error_message = "the ingest may connect, produce idempotently and write user_created, nothing else: ${output.ingest_kafka_policy_json}"
  }
  assert {
    condition = jsondecode(output.worker_kafka_policy_json) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "ConnectAndProduceIdempotently"
          Effect   = "Allow"
          Action   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:cluster/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1"
        },
        {
          Sid      = "ReadEvents"
          Effect   = "Allow"
          Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user_created"
        },
        {
          Sid      = "WriteDeadLetters"
          Effect   = "Allow"
          Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user_created.dlq"
        },
        {
          Sid      = "UseWorkerGroup"
          Effect   = "Allow"
          Action   = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:group/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user-pipeline-worker"
        },
      ]
    }
    error_message = "the worker may read user_created in its group and write user_created.dlq, nothing else: ${output.worker_kafka_policy_json}"
  }
  assert {
    condition = jsondecode(output.redrive_kafka_policy_json) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "ConnectAndProduceIdempotently"
          Effect   = "Allow"
          Action   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:cluster/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1"
        },
        {
          Sid      = "ReadDeadLetters"
          Effect   = "Allow"
          Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user_created.dlq"
        },
        {
          Sid      = "WriteEvents"
          Effect   = "Allow"
          Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user_created"
        },
        {
          Sid      = "UseRedriveGroups"
          Effect   = "Allow"
          Action   = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:group/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user-pipeline-worker-redrive-*"
        },
      ]
    }
    error_message = "re-drive may read user_created.dlq in its own groups and write user_created, never use the workers' group: ${output.redrive_kafka_policy_json}"
  }
  assert {
    condition = jsondecode(output.console_kafka_policy_json) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "Connect"
          Effect   = "Allow"
          Action   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:cluster/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1"
        },
        {
          Sid    = "ReadTopics"
          Effect = "Allow"
          Action = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
          Resource = [
            "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user_created",
            "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user_created.dlq",
          ]
        },
        {
          Sid      = "DescribeWorkerGroup"
          Effect   = "Allow"
          Action   = ["kafka-cluster:DescribeGroup"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:group/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user-pipeline-worker"
        },
      ]
    }
    error_message = "the console may only read both topics and describe the workers' group: ${output.console_kafka_policy_json}"
  }
  assert {
    condition = jsondecode(output.kafka_topic_admin_policy_json) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "Connect"
          Effect   = "Allow"
          Action   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
          Resource = "arn:aws:kafka:eu-west-1:111122223333:cluster/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1"
        },
        {
          Sid    = "ManagePipelineTopics"
          Effect = "Allow"
          Action = ["kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic", "kafka-cluster:AlterTopic", "kafka-cluster:DescribeTopicDynamicConfiguration"]
          Resource = [
            "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user_created",
            "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/user_created.dlq",
          ]
        },
      ]
    }
    error_message = "the topic admin may create, describe and grow the two topics, nothing else: ${output.kafka_topic_admin_policy_json}"
  }
}

run "provisioned_iam_policies_name_the_provisioned_cluster" {
  variables {
    msk_mode                  = "provisioned"
    msk_client_authentication = "iam"
  }

  assert {
    condition     = jsondecode(output.ingest_kafka_policy_json).Statement[0].Resource == aws_msk_cluster.this[0].arn && jsondecode(output.ingest_kafka_policy_json).Statement[1].Resource == "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/3c5a7b1e-2f4d-4e6a-9b8c-0d1e2f3a4b5c-2/user_created"
    error_message = "the ingest's policy must name the provisioned cluster and its user_created topic: ${output.ingest_kafka_policy_json}"
  }
  assert {
    condition     = jsondecode(output.worker_kafka_policy_json).Statement[3].Resource == "arn:aws:kafka:eu-west-1:111122223333:group/user-pipeline-kafka/3c5a7b1e-2f4d-4e6a-9b8c-0d1e2f3a4b5c-2/user-pipeline-worker"
    error_message = "the worker's group ARN must name the provisioned cluster: ${output.worker_kafka_policy_json}"
  }
  assert {
    condition = alltrue(flatten([
      for p in [output.ingest_kafka_policy_json, output.worker_kafka_policy_json, output.redrive_kafka_policy_json, output.console_kafka_policy_json, output.kafka_topic_admin_policy_json] : [
        for s in jsondecode(p).Statement : [
          for r in flatten([s.Resource]) : strcontains(r, ":111122223333:") && strcontains(r, "/user-pipeline-kafka/3c5a7b1e-2f4d-4e6a-9b8c-0d1e2f3a4b5c-2")
        ]
      ]
    ]))
    error_message = "every resource of every policy must be in the provisioned cluster"
  }
}

run "policies_follow_the_topic_and_group_names" {
  variables {
    msk_mode        = "serverless"
    name            = "events-prod"
    kafka_topic     = "signups"
    kafka_dlq_topic = "signups.dead"
    kafka_group_id  = "signups-loader"
  }

  # The mock's ARN does not follow `name`: only the topic and group names change here.
  assert {
    condition     = jsondecode(output.worker_kafka_policy_json).Statement[1].Resource == "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/signups" && jsondecode(output.worker_kafka_policy_json).Statement[2].Resource == "arn:aws:kafka:eu-west-1:111122223333:topic/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/signups.dead" && jsondecode(output.worker_kafka_policy_json).Statement[3].Resource == "arn:aws:kafka:eu-west-1:111122223333:group/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/signups-loader"
    error_message = "the worker's policy must name kafka_topic, kafka_dlq_topic and kafka_group_id: ${output.worker_kafka_policy_json}"
  }
  assert {
    condition     = jsondecode(output.redrive_kafka_policy_json).Statement[3].Resource == "arn:aws:kafka:eu-west-1:111122223333:group/user-pipeline-kafka/7e9d1c3b-5a4f-4b2e-8d6c-1a2b3c4d5e6f-s1/signups-loader-redrive-*"
    error_message = "re-drive's groups are named after kafka_group_id: ${output.redrive_kafka_policy_json}"
  }
  assert {
    condition     = aws_msk_serverless_cluster.this[0].cluster_name == "events-prod-kafka"
    error_message = "the cluster is named after `name`"
  }
}

run "no_iam_policies_without_iam" {
  command = plan

  variables {
    msk_mode = "provisioned"
  }

  assert {
    condition     = output.ingest_kafka_policy_json == null && output.worker_kafka_policy_json == null && output.redrive_kafka_policy_json == null && output.console_kafka_policy_json == null && output.kafka_topic_admin_policy_json == null
    error_message = "with SCRAM (the default) there are no IAM policies for Kafka"
  }
}

run "no_iam_policies_without_msk" {
  command = plan

  variables {
    msk_client_authentication = "iam"
  }

  assert {
    condition     = output.ingest_kafka_policy_json == null && output.worker_kafka_policy_json == null && output.redrive_kafka_policy_json == null && output.console_kafka_policy_json == null && output.kafka_topic_admin_policy_json == null && output.kafka_client_settings == null
    error_message = "msk_client_authentication = iam without an MSK cluster creates no policy and no settings"
  }
}

run "group_id_with_a_wildcard_is_rejected" {
  command = plan

  variables {
    msk_mode       = "serverless"
    kafka_group_id = "user-pipeline-*"
  }

  expect_failures = [var.kafka_group_id]
}

run "dead_letter_topic_must_differ_from_the_topic" {
  command = plan

  variables {
    kafka_dlq_topic = "user_created"
  }

  expect_failures = [var.kafka_dlq_topic]
}

run "topic_must_be_a_kafka_topic_name" {
  command = plan

  variables {
    kafka_topic = "user created"
  }

  expect_failures = [var.kafka_topic]
}
