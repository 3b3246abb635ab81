# What the programs and operators need. No output carries a password: the admin password is in
# the Secrets Manager secret named by admin_secret_arn (JSON with "username" and "password").

locals {
  warehouse_host     = local.provisioned ? one(aws_redshift_cluster.this[*].dns_name) : try(aws_redshiftserverless_workgroup.this[0].endpoint[0].address, null)
  warehouse_endpoint = "${local.warehouse_host}:${local.warehouse_port}/${local.database_name}"
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
  description = "PostgreSQL URL without the password: insert the URL-encoded password from the admin secret to get WAREHOUSE_URL (README)."
  value       = "postgres://${var.admin_username}@${local.warehouse_endpoint}?sslmode=verify-full"
}

output "admin_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the warehouse admin username and password (managed and rotated by Redshift)."
  value       = local.provisioned ? one(aws_redshift_cluster.this[*].master_password_secret_arn) : one(aws_redshiftserverless_namespace.this[*].admin_password_secret_arn)
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
  description = "MSK bootstrap servers, comma-separated host:port, for KAFKA_BROKERS: SASL/SCRAM (port 9096) or TLS (9094) for provisioned, as msk_client_authentication says; SASL/IAM (9098) for serverless, which the programs cannot use yet. Null when msk_mode = \"none\"."
  value = (
    local.msk_scram ? one(aws_msk_cluster.this[*].bootstrap_brokers_sasl_scram) :
    var.msk_mode == "provisioned" ? one(aws_msk_cluster.this[*].bootstrap_brokers_tls) :
    var.msk_mode == "serverless" ? one(aws_msk_serverless_cluster.this[*].bootstrap_brokers_sasl_iam) :
    null
  )
}

output "kafka_cluster_arn" {
  description = "ARN of the MSK cluster; null when msk_mode = \"none\"."
  value = (
    var.msk_mode == "provisioned" ? one(aws_msk_cluster.this[*].arn) :
    var.msk_mode == "serverless" ? one(aws_msk_serverless_cluster.this[*].arn) :
    null
  )
}
