# What the programs and operators need. No output carries a password: the admin password is in
# the Secrets Manager secret named by admin_secret_arn, the MSK SCRAM password in the one named by
# kafka_scram_secret_arn (both JSON with "username" and "password").

locals {
  warehouse_host     = local.provisioned ? one(aws_redshift_cluster.this[*].dns_name) : try(aws_redshiftserverless_workgroup.this[0].endpoint[0].address, null)
  warehouse_endpoint = "${local.warehouse_host}:${local.warehouse_port}/${local.database_name}"

  # The bootstrap servers of the one listener clients may use (msk_client_port); null without MSK.
  kafka_brokers = (
    var.msk_mode == "serverless" ? one(aws_msk_serverless_cluster.this[*].bootstrap_brokers_sasl_iam) :
    local.msk_iam ? one(aws_msk_cluster.this[*].bootstrap_brokers_sasl_iam) :
    local.msk_scram ? one(aws_msk_cluster.this[*].bootstrap_brokers_sasl_scram) :
    var.msk_mode == "provisioned" ? one(aws_msk_cluster.this[*].bootstrap_brokers_tls) :
    null
  )
}

output "warehouse_mode" {
  description = "\"provisioned\" or \"serverless\"."
  value       = var.warehouse_mode
}

output "warehouse_host" {
  description = "DNS name of the warehouse endpoint (private: resolvable and reachable from the VPC)."
  value       = local.warehouse_host
}

output "warehouse_port" {
  description = "Port of the warehouse endpoint."
  value       = local.warehouse_port
}

output "warehouse_database" {
  description = "The pipeline's database."
  value       = local.database_name
}

output "warehouse_jdbc_url" {
  description = "JDBC URL for SQL clients (Redshift JDBC driver); the credentials come from the admin secret."
  value       = "jdbc:redshift://${local.warehouse_endpoint}?ssl=true"
}

output "warehouse_postgres_url" {
  description = "PostgreSQL URL without the password: insert the URL-encoded password from the admin secret to get WAREHOUSE_URL (docs/deploy.md)."
  value       = "postgres://${var.admin_username}@${local.warehouse_endpoint}?sslmode=verify-full"
}

output "admin_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the warehouse admin username and password (managed and rotated by Redshift)."
  value       = local.provisioned ? one(aws_redshift_cluster.this[*].master_password_secret_arn) : one(aws_redshiftserverless_namespace.this[*].admin_password_secret_arn)
}

output "worker_staging_policy_json" {
  description = "IAM policy to attach to the worker's role: put and delete under staging_prefix in the staging bucket, and data keys of the module's key through S3. Nothing else."
  value       = local.worker_staging_policy
}

output "staging_prefix" {
  description = "The worker's WAREHOUSE_S3_PREFIX (writes are granted under it only)."
  value       = var.staging_prefix
}

output "redshift_role_arn" {
  description = "IAM role the warehouse assumes to read the staging bucket (its default role: COPY ... IAM_ROLE default)."
  value       = aws_iam_role.redshift.arn
}

output "staging_bucket" {
  description = "Name of the S3 staging bucket."
  value       = aws_s3_bucket.staging.bucket
}

output "staging_bucket_arn" {
  description = "ARN of the S3 staging bucket."
  value       = aws_s3_bucket.staging.arn
}

output "kms_key_arn" {
  description = "ARN of the customer-managed KMS key (warehouse, admin secret, staging bucket, MSK, MSK SCRAM secret)."
  value       = aws_kms_key.this.arn
}

output "warehouse_security_group_id" {
  description = "Security group of the warehouse (admits only worker_security_group_id)."
  value       = aws_security_group.warehouse.id
}

output "kafka_brokers" {
  description = "MSK bootstrap servers, comma-separated host:port, for KAFKA_BROKERS: SASL/IAM (port 9098) for serverless; for provisioned, as msk_client_authentication says, SASL/SCRAM (9096), SASL/IAM (9098) or TLS (9094). Null when msk_mode = \"none\"."
  value       = local.kafka_brokers
}

output "kafka_client_settings" {
  description = "The KAFKA_* environment of ingest, worker, redrive and console for the MSK cluster. SCRAM: KAFKA_BROKERS, KAFKA_SSL, KAFKA_SASL_MECHANISM=scram-sha-512, KAFKA_SASL_USERNAME, all but KAFKA_SASL_PASSWORD (in the secret named by kafka_scram_secret_arn). IAM (serverless, or msk_client_authentication = \"iam\"): KAFKA_BROKERS, KAFKA_SSL, KAFKA_SASL_MECHANISM=aws-msk-iam and AWS_REGION, complete (credentials come from each program's role); it needs programs that support aws-msk-iam. TLS: KAFKA_BROKERS and KAFKA_SSL. Null when msk_mode = \"none\"."
  value = !local.msk_enabled ? null : merge(
    {
      KAFKA_BROKERS = local.kafka_brokers
      KAFKA_SSL     = "true"
    },
    local.msk_scram ? {
      KAFKA_SASL_MECHANISM = "scram-sha-512"
      KAFKA_SASL_USERNAME  = local.msk_scram_username
    } : {},
    # The token is signed for the cluster's region, which the programs take from AWS_REGION.
    local.msk_iam ? {
      KAFKA_SASL_MECHANISM = "aws-msk-iam"
      AWS_REGION           = data.aws_region.current.name
    } : {},
  )
}

output "kafka_scram_secret_arn" {
  description = "ARN of the Secrets Manager secret of the pipeline's SASL/SCRAM user (JSON with username and password; the operator puts the password in): KAFKA_SASL_PASSWORD is its password. Null unless msk_client_authentication = \"scram\" with a provisioned cluster."
  value       = one(aws_secretsmanager_secret.kafka_scram[*].arn)
}

output "kafka_client_policy_json" {
  description = "IAM policy (JSON) for the roles that read the SCRAM password for the programs: GetSecretValue on that secret, kms:Decrypt through Secrets Manager for it. Null unless SCRAM is on."
  value       = local.kafka_client_policy
}

output "kafka_cluster_arn" {
  description = "ARN of the MSK cluster; null when msk_mode = \"none\"."
  value       = local.msk_cluster_arn
}

output "ingest_kafka_policy_json" {
  description = "IAM policy (JSON) for the ingest's role with IAM authentication to MSK: connect, idempotent writes, describe and write kafka_topic. Null without IAM (msk_mode = \"serverless\" or msk_client_authentication = \"iam\")."
  value       = local.kafka_ingest_policy
}

output "worker_kafka_policy_json" {
  description = "IAM policy (JSON) for the worker's role with IAM authentication to MSK: connect, idempotent writes, read kafka_topic, write kafka_dlq_topic, use the kafka_group_id group. Attach it beside worker_staging_policy_json. Null without IAM."
  value       = local.kafka_worker_policy
}

output "redrive_kafka_policy_json" {
  description = "IAM policy (JSON) for re-drive's role with IAM authentication to MSK: connect, idempotent writes, read kafka_dlq_topic, write kafka_topic, use the \"<kafka_group_id>-redrive-*\" groups. Also for the console's role when its re-drive is used. Null without IAM."
  value       = local.kafka_redrive_policy
}

output "console_kafka_policy_json" {
  description = "IAM policy (JSON) for the console's role with IAM authentication to MSK, read-only: connect, describe and read kafka_topic and kafka_dlq_topic, describe the kafka_group_id group. Null without IAM."
  value       = local.kafka_console_policy
}

output "kafka_topic_admin_policy_json" {
  description = "IAM policy (JSON) for the operator who creates kafka_topic and kafka_dlq_topic and adds partitions, with IAM authentication to MSK: nothing else on the cluster. Null without IAM."
  value       = local.kafka_topic_admin_policy
}
