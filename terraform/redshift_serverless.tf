# warehouse_mode = "serverless": Redshift Serverless, with the same guarantees as the cluster in
# redshift.tf (encrypted with the module's key, private, SSL-only, audited, admin password in
# Secrets Manager).

resource "aws_redshiftserverless_namespace" "this" {
  count = local.serverless ? 1 : 0

  namespace_name = "${var.name}-warehouse"
  db_name        = local.database_name

  # Generated and stored by Secrets Manager: never in a variable or in the state.
  admin_username                   = var.admin_username
  manage_admin_password            = true
  admin_password_secret_kms_key_id = aws_kms_key.this.key_id

  kms_key_id           = aws_kms_key.this.arn
  iam_roles            = [aws_iam_role.redshift.arn]
  default_iam_role_arn = aws_iam_role.redshift.arn
  log_exports          = local.audit_log_exports
}

locals {
  # The workgroup reports every configuration parameter back after creation; listing all of
  # them (at AWS's defaults except where noted) keeps plans free of perpetual diffs.
  serverless_config_parameters = {
    auto_mv                          = "true"
    datestyle                        = "ISO, MDY"
    enable_case_sensitive_identifier = "false"
    enable_user_activity_logging     = "true" # the queries in the audit log
    max_query_execution_time         = "14400"
    query_group                      = "default"
    require_ssl                      = "true" # clients without TLS are refused
    search_path                      = "$user, public"
    use_fips_ssl                     = "false"
  }
}

resource "aws_redshiftserverless_workgroup" "this" {
  count = local.serverless ? 1 : 0

  workgroup_name = "${var.name}-warehouse"
  namespace_name = aws_redshiftserverless_namespace.this[0].namespace_name
  base_capacity  = var.serverless_base_capacity
  max_capacity   = var.serverless_max_capacity
  port           = local.warehouse_port

  publicly_accessible  = false
  enhanced_vpc_routing = true
  subnet_ids           = var.private_subnet_ids
  security_group_ids   = [aws_security_group.warehouse.id]

  dynamic "config_parameter" {
    for_each = local.serverless_config_parameters
    content {
      parameter_key   = config_parameter.key
      parameter_value = config_parameter.value
    }
  }
}
