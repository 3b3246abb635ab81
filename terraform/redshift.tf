# warehouse_mode = "provisioned": a single-node Redshift cluster, as in the classic setup, done
# properly: encrypted with the module's key, private, SSL-only, audited, and with an admin
# password that only Secrets Manager knows.

resource "aws_redshift_subnet_group" "this" {
  count = local.provisioned ? 1 : 0

  name        = "${var.name}-warehouse"
  description = "Private subnets of the ${var.name} warehouse"
  subnet_ids  = var.private_subnet_ids
}

resource "aws_redshift_parameter_group" "this" {
  count = local.provisioned ? 1 : 0

  name        = "${var.name}-warehouse"
  description = "${var.name}: SSL required, user activity logged"
  family      = "redshift-1.0"

  # Clients that do not speak TLS are refused (the programs connect with sslmode=require).
  parameter {
    name  = "require_ssl"
    value = "true"
  }

  # Without it the audit log has connections and user changes but not the queries.
  parameter {
    name  = "enable_user_activity_logging"
    value = "true"
  }
}

resource "aws_redshift_cluster" "this" {
  count = local.provisioned ? 1 : 0

  cluster_identifier = "${var.name}-warehouse"
  cluster_type       = "single-node"
  node_type          = var.node_type
  database_name      = local.database_name
  port               = local.warehouse_port

  # The password is generated and stored by Secrets Manager (encrypted with the module's key);
  # it never passes through Terraform, so it is neither in a variable nor in the state.
  master_username                   = var.admin_username
  manage_master_password            = true
  master_password_secret_kms_key_id = aws_kms_key.this.key_id

  encrypted  = true
  kms_key_id = aws_kms_key.this.arn

  publicly_accessible          = false
  enhanced_vpc_routing         = true
  cluster_subnet_group_name    = aws_redshift_subnet_group.this[0].name
  vpc_security_group_ids       = [aws_security_group.warehouse.id]
  cluster_parameter_group_name = aws_redshift_parameter_group.this[0].name

  iam_roles            = [aws_iam_role.redshift.arn]
  default_iam_role_arn = aws_iam_role.redshift.arn

  automated_snapshot_retention_period = var.snapshot_retention_days
  skip_final_snapshot                 = var.skip_final_snapshot
  final_snapshot_identifier           = var.skip_final_snapshot ? null : "${var.name}-warehouse-final"
  allow_version_upgrade               = true
}

# Redshift creates its log groups on first write, without retention; creating them first lets
# the retention be set here. The names are the ones Redshift uses for a cluster.
resource "aws_cloudwatch_log_group" "warehouse_audit" {
  for_each = local.provisioned ? toset(local.audit_log_exports) : toset([])

  name              = "/aws/redshift/cluster/${var.name}-warehouse/${each.key}"
  retention_in_days = var.audit_log_retention_days
}

resource "aws_redshift_logging" "this" {
  count = local.provisioned ? 1 : 0

  cluster_identifier   = aws_redshift_cluster.this[0].cluster_identifier
  log_destination_type = "cloudwatch"
  log_exports          = local.audit_log_exports

  depends_on = [aws_cloudwatch_log_group.warehouse_audit]
}
