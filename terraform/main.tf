# The user pipeline on AWS: a Redshift warehouse (provisioned single node or Serverless), the S3
# staging bucket with the IAM role Redshift assumes to read it, a customer-managed KMS key, and
# optionally Amazon MSK. The VPC, its private subnets and the workers' compute live elsewhere;
# this module receives their ids as variables.
#
#   kms.tf                 the customer-managed key (warehouse, secrets, staging bucket, MSK)
#   network.tf             the warehouse security group and the optional S3 gateway endpoint
#   s3.tf                  the staging bucket
#   iam.tf                 the role Redshift assumes; the policy to read the MSK SCRAM secret
#   redshift.tf            the provisioned single-node cluster (warehouse_mode = "provisioned")
#   redshift_serverless.tf namespace + workgroup (warehouse_mode = "serverless")
#   msk.tf                 optional Amazon MSK (msk_mode = "provisioned" | "serverless")
#   msk_scram.tf           the SASL/SCRAM user's secret (msk_client_authentication = "scram")
#   msk_iam.tf             each program's IAM policy for MSK with IAM authentication
#   table_schema.sql       the warehouse table; the worker's redshift dialect must emit the same

locals {
  provisioned = var.warehouse_mode == "provisioned"
  serverless  = var.warehouse_mode == "serverless"

  # The pipeline's database (DESIGN.md): fixed, the programs and table_schema.sql assume it.
  database_name = "user_data"
  # Redshift's default port, on both the cluster and the workgroup.
  warehouse_port = 5439

  # What Redshift writes as audit logs: connections, user changes, and every query.
  audit_log_exports = ["connectionlog", "userlog", "useractivitylog"]
}
