# msk_client_authentication = "scram" (with msk_mode = "provisioned"): the pipeline's SASL/SCRAM
# user. MSK reads users from Secrets Manager secrets whose name starts with AmazonMSK_, encrypted
# with a customer-managed key (the module's key: its default policy lets MSK use it through the
# grant it makes when the secret is associated), holding JSON {"username": …, "password": …}.
#
# Terraform creates the secret empty and never sees the password: the operator puts it in once
# (docs/deploy.md), so it is in no variable, no output and not in the state, like the warehouse
# admin password. (The offline provider mirror has no hashicorp/random, and an ephemeral
# aws_secretsmanager_random_password cannot be exercised by `terraform test` mocks yet.) MSK
# cannot associate a secret without a value, so the association waits for one: if the password
# is not there when the cluster is ready, the apply stops saying what to run, and the next apply
# finishes.

locals {
  # The SCRAM user name: ingest, worker and redrive share it (KAFKA_SASL_USERNAME).
  msk_scram_username = var.name
}

resource "aws_secretsmanager_secret" "kafka_scram" {
  count = local.msk_scram ? 1 : 0

  # A prefix, not a fixed name: a deleted secret keeps its name for the recovery window.
  name_prefix = "AmazonMSK_${var.name}-"
  description = "SASL/SCRAM user ${local.msk_scram_username} of the ${var.name} MSK cluster: JSON with username and password (put in by the operator)"
  kms_key_id  = aws_kms_key.this.arn
}

# The resource policy MSK attaches when the secret is associated (AWSKafkaResourcePolicy), managed
# here so that it is in the state and reviewed like the rest.
resource "aws_secretsmanager_secret_policy" "kafka_scram" {
  count = local.msk_scram ? 1 : 0

  secret_arn          = aws_secretsmanager_secret.kafka_scram[0].arn
  block_public_policy = true

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AWSKafkaResourcePolicy"
      Effect    = "Allow"
      Principal = { Service = "kafka.amazonaws.com" }
      Action    = "secretsmanager:getSecretValue"
      Resource  = aws_secretsmanager_secret.kafka_scram[0].arn
    }]
  })
}

# The secret's versions (ids and labels, never the value), read once the cluster exists: that
# leaves the operator the cluster's creation time to put the password in.
data "aws_secretsmanager_secret_versions" "kafka_scram" {
  count = local.msk_scram ? 1 : 0

  secret_id = aws_secretsmanager_secret.kafka_scram[0].arn

  depends_on = [aws_msk_cluster.this]
}

# One secret, not the cluster's whole list (aws_msk_scram_secret_association would remove any
# user associated elsewhere): operators may add users, for example one per program, beside it.
resource "aws_msk_single_scram_secret_association" "kafka_scram" {
  count = local.msk_scram ? 1 : 0

  cluster_arn = aws_msk_cluster.this[0].arn
  secret_arn  = aws_secretsmanager_secret.kafka_scram[0].arn

  depends_on = [aws_secretsmanager_secret_policy.kafka_scram]

  lifecycle {
    precondition {
      condition     = anytrue([for v in data.aws_secretsmanager_secret_versions.kafka_scram[0].versions : contains(v.version_stages, "AWSCURRENT")])
      error_message = "The SCRAM secret ${aws_secretsmanager_secret.kafka_scram[0].arn} has no value yet, and MSK cannot associate it without one. Put the password in (docs/deploy.md, \"Amazon MSK\"): aws secretsmanager put-secret-value --secret-id ${aws_secretsmanager_secret.kafka_scram[0].arn} --secret-string '{\"username\":\"${local.msk_scram_username}\",\"password\":\"…\"}'; then apply again."
    }
  }
}
