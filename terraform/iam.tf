# The role the warehouse assumes for COPY: it reads the staging bucket and nothing else.
resource "aws_iam_role" "redshift" {
  name_prefix = "${var.name}-redshift-"
  description = "Assumed by Redshift (${var.warehouse_mode}) to read the ${var.name} staging bucket"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"] }
    }]
  })
}

resource "aws_iam_role_policy" "redshift_read_staging" {
  name = "read-staging-bucket"
  role = aws_iam_role.redshift.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ListStagingBucket"
        Effect   = "Allow"
        Action   = ["s3:ListBucket", "s3:GetBucketLocation"]
        Resource = aws_s3_bucket.staging.arn
      },
      {
        Sid      = "ReadStagedFiles"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${aws_s3_bucket.staging.arn}/*"
      },
      {
        # The staged objects are encrypted with the module's key: decrypt, only through S3.
        Sid       = "DecryptStagedFiles"
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = aws_kms_key.this.arn
        Condition = { StringEquals = { "kms:ViaService" = "s3.${data.aws_region.current.name}.amazonaws.com" } }
      },
    ]
  })
}

# What the programs' runtime needs to read the SCRAM password (for ECS, the task execution role
# that resolves a task definition `secrets` entry; or the task role when the program's start
# script reads it): that one secret, and the key only through Secrets Manager for that secret.
# The module does not create the compute, so this is an output (kafka_client_policy_json) to
# attach to those roles, not a role of its own. Null without SCRAM.
locals {
  kafka_client_policy = local.msk_scram ? jsonencode({
    Version = "2012-10-17"
    Statement = [
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
            "kms:ViaService"                  = "secretsmanager.${data.aws_region.current.name}.amazonaws.com"
            "kms:EncryptionContext:SecretARN" = aws_secretsmanager_secret.kafka_scram[0].arn
          }
        }
      },
    ]
  }) : null
}

# What the worker needs to stage through S3 (WAREHOUSE_S3_BUCKET, WAREHOUSE_S3_PREFIX): put and
# delete objects under the staging prefix, and a data key of the module's key for SSE-KMS, only
# through S3. Nothing to read or list: Redshift reads the objects with its own role. The module
# does not create the compute, so this is an output (worker_staging_policy_json) to attach to the
# worker's task role.
locals {
  worker_staging_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "StageObjects"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:DeleteObject"]
        Resource = "${aws_s3_bucket.staging.arn}/${var.staging_prefix}*"
      },
      {
        Sid       = "EncryptStagedObjects"
        Effect    = "Allow"
        Action    = ["kms:GenerateDataKey"]
        Resource  = aws_kms_key.this.arn
        Condition = { StringEquals = { "kms:ViaService" = "s3.${data.aws_region.current.name}.amazonaws.com" } }
      },
    ]
  })
}
