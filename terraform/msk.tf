# Optional Amazon MSK, so that the whole pipeline can run on AWS (msk_mode, default "none": most
# teams already run Kafka, and a cluster costs money from the first hour).
#
# - "provisioned": brokers in the private subnets, TLS between clients and brokers, and the
#   security group admits only the workers' and the listed client security groups. Clients
#   authenticate as msk_client_authentication says: "scram" (the default) is SASL/SCRAM-SHA-512
#   (port 9096) as the pipeline's user, whose password is in Secrets Manager (msk_scram.tf); "iam"
#   is SASL/IAM (port 9098), each program signing in with its own role and policy (msk_iam.tf);
#   with "tls" there is no client authentication (port 9094) and the network is the access control.
# - "serverless": MSK Serverless, which accepts only IAM authentication (SASL/IAM on port 9098):
#   the programs connect with KAFKA_SASL_MECHANISM=aws-msk-iam and the policies of msk_iam.tf.
#
# Topics are not created here (no Kafka provider is used): create kafka_topic and kafka_dlq_topic
# (`user_created`, `user_created.dlq`) with the partition count you want to scale the workers to
# (docs/deploy.md).

locals {
  msk_enabled = var.msk_mode != "none"
  # SASL/SCRAM on the provisioned cluster: the pipeline's user and its secret exist only then.
  msk_scram = var.msk_mode == "provisioned" && var.msk_client_authentication == "scram"
  # SASL/IAM: always on MSK Serverless, by choice on the provisioned cluster. The programs'
  # policies (msk_iam.tf) exist only then.
  msk_iam = var.msk_mode == "serverless" || (var.msk_mode == "provisioned" && var.msk_client_authentication == "iam")
  # The one port clients use: SASL/IAM, SASL/SCRAM, or plain TLS.
  msk_client_port = (
    local.msk_iam ? 9098 :
    local.msk_scram ? 9096 :
    9094
  )
  msk_client_security_group_ids = local.msk_enabled ? toset(concat(
    [var.worker_security_group_id], var.kafka_client_security_group_ids,
  )) : toset([])
}

resource "aws_security_group" "kafka" {
  count = local.msk_enabled ? 1 : 0

  name_prefix = "${var.name}-kafka-"
  description = "MSK for ${var.name}: reachable only from the pipeline's security groups"
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "kafka_from_clients" {
  for_each = local.msk_client_security_group_ids

  security_group_id            = aws_security_group.kafka[0].id
  description                  = "Kafka clients"
  ip_protocol                  = "tcp"
  from_port                    = local.msk_client_port
  to_port                      = local.msk_client_port
  referenced_security_group_id = each.key
}

resource "aws_msk_configuration" "this" {
  count = var.msk_mode == "provisioned" ? 1 : 0

  name           = "${var.name}-kafka"
  kafka_versions = [var.msk_kafka_version]

  # A missing topic is an error, not a silent new topic (DESIGN.md); acks=all needs two in-sync
  # replicas of three to mean something.
  server_properties = <<-EOT
    auto.create.topics.enable=false
    default.replication.factor=3
    min.insync.replicas=2
  EOT
}

resource "aws_cloudwatch_log_group" "kafka" {
  count = var.msk_mode == "provisioned" ? 1 : 0

  name              = "/aws/msk/${var.name}-kafka"
  retention_in_days = var.audit_log_retention_days
}

resource "aws_msk_cluster" "this" {
  count = var.msk_mode == "provisioned" ? 1 : 0

  cluster_name           = "${var.name}-kafka"
  kafka_version          = var.msk_kafka_version
  number_of_broker_nodes = var.msk_broker_count

  broker_node_group_info {
    instance_type   = var.msk_broker_instance_type
    client_subnets  = var.private_subnet_ids
    security_groups = [aws_security_group.kafka[0].id]

    storage_info {
      ebs_storage_info {
        volume_size = var.msk_broker_volume_gib
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this[0].arn
    revision = aws_msk_configuration.this[0].latest_revision
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = aws_kms_key.this.arn

    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  # SCRAM: every client logs in (msk_scram.tf associates the pipeline's user), and nothing
  # unauthenticated is accepted. IAM: every client signs in with its role's credentials, and its
  # IAM policy (msk_iam.tf) decides what it may do; nothing unauthenticated is accepted either.
  # TLS: no client certificates, no SASL; the security group is the access control. In every case
  # the programs speak TLS (KAFKA_SSL=true).
  client_authentication {
    unauthenticated = var.msk_client_authentication == "tls"

    sasl {
      scram = local.msk_scram
      iam   = local.msk_iam
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.kafka[0].name
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.msk_broker_count % length(var.private_subnet_ids) == 0
      error_message = "msk_broker_count must be a multiple of the number of private_subnet_ids (MSK places the same number of brokers in each subnet)."
    }
  }
}

resource "aws_msk_serverless_cluster" "this" {
  count = var.msk_mode == "serverless" ? 1 : 0

  cluster_name = "${var.name}-kafka"

  vpc_config {
    subnet_ids         = var.private_subnet_ids
    security_group_ids = [aws_security_group.kafka[0].id]
  }

  client_authentication {
    sasl {
      iam {
        enabled = true
      }
    }
  }
}
