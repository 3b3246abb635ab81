# warehouse_mode = "provisioned" (the default): a private, encrypted, SSL-only, audited
# single-node cluster whose admin password only Secrets Manager knows.
# Runs offline: mock_provider answers for AWS (no account, no network).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  region                   = "eu-west-1"
  vpc_id                   = "vpc-0a1b2c3d4e5f60718"
  private_subnet_ids       = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722", "subnet-0a1b2c3d4e5f60733"]
  worker_security_group_id = "sg-0a1b2c3d4e5f6feed"
}

run "cluster_is_single_node_with_database_user_data" {
  command = plan

  assert {
    condition     = length(aws_redshift_cluster.this) == 1
    error_message = "the default warehouse_mode must create exactly one provisioned cluster"
  }
  assert {
    condition     = aws_redshift_cluster.this[0].cluster_type == "single-node" && aws_redshift_cluster.this[0].database_name == "user_data"
    error_message = "the cluster must be single-node with database user_data"
  }
  assert {
    condition     = length(aws_redshiftserverless_namespace.this) == 0 && length(aws_redshiftserverless_workgroup.this) == 0
    error_message = "provisioned mode must not create Redshift Serverless resources"
  }
}

run "cluster_is_private_encrypted_and_routed_through_the_vpc" {
  assert {
    condition     = aws_redshift_cluster.this[0].publicly_accessible == false
    error_message = "the cluster must not be publicly accessible"
  }
  assert {
    condition     = aws_redshift_cluster.this[0].encrypted == true && aws_redshift_cluster.this[0].kms_key_id == aws_kms_key.this.arn
    error_message = "the cluster must be encrypted with the module's customer-managed key"
  }
  assert {
    condition     = aws_kms_key.this.enable_key_rotation == true
    error_message = "the customer-managed key must rotate"
  }
  assert {
    condition     = aws_redshift_cluster.this[0].enhanced_vpc_routing == true
    error_message = "enhanced VPC routing must be on"
  }
  assert {
    condition     = aws_redshift_subnet_group.this[0].subnet_ids == toset(var.private_subnet_ids)
    error_message = "the cluster's subnet group must be exactly the private subnets"
  }
  assert {
    condition     = aws_redshift_cluster.this[0].cluster_subnet_group_name == aws_redshift_subnet_group.this[0].name
    error_message = "the cluster must sit in the private subnet group"
  }
  assert {
    condition     = aws_redshift_cluster.this[0].vpc_security_group_ids == toset([aws_security_group.warehouse.id])
    error_message = "the cluster must have exactly the warehouse security group"
  }
}

run "admin_password_is_managed_by_secrets_manager" {
  assert {
    condition     = aws_redshift_cluster.this[0].manage_master_password == true
    error_message = "Secrets Manager must manage the admin password"
  }
  assert {
    condition     = aws_redshift_cluster.this[0].master_password == null && aws_redshift_cluster.this[0].master_password_wo == null
    error_message = "no plain-text admin password may be set"
  }
  assert {
    condition     = aws_redshift_cluster.this[0].master_password_secret_kms_key_id == aws_kms_key.this.key_id
    error_message = "the admin secret must be encrypted with the module's key"
  }
  assert {
    condition     = output.admin_secret_arn == aws_redshift_cluster.this[0].master_password_secret_arn
    error_message = "admin_secret_arn must be the cluster's managed secret"
  }
}

run "only_the_workers_security_group_reaches_the_warehouse" {
  assert {
    condition     = aws_vpc_security_group_ingress_rule.warehouse_from_workers.referenced_security_group_id == var.worker_security_group_id
    error_message = "the warehouse ingress rule's source must be the workers' security group"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.warehouse_from_workers.cidr_ipv4 == null && aws_vpc_security_group_ingress_rule.warehouse_from_workers.cidr_ipv6 == null && aws_vpc_security_group_ingress_rule.warehouse_from_workers.prefix_list_id == null
    error_message = "the warehouse ingress rule must not admit any address range"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.warehouse_from_workers.security_group_id == aws_security_group.warehouse.id
    error_message = "the ingress rule must belong to the warehouse security group"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.warehouse_from_workers.from_port == 5439 && aws_vpc_security_group_ingress_rule.warehouse_from_workers.to_port == 5439
    error_message = "the ingress rule must open only the Redshift port"
  }
}

run "ssl_is_required_and_audit_logging_is_on" {
  assert {
    condition     = contains([for p in aws_redshift_parameter_group.this[0].parameter : "${p.name}=${p.value}"], "require_ssl=true")
    error_message = "the parameter group must set require_ssl=true"
  }
  assert {
    condition     = contains([for p in aws_redshift_parameter_group.this[0].parameter : "${p.name}=${p.value}"], "enable_user_activity_logging=true")
    error_message = "the parameter group must log user activity"
  }
  assert {
    condition     = aws_redshift_cluster.this[0].cluster_parameter_group_name == aws_redshift_parameter_group.this[0].name
    error_message = "the cluster must use the module's parameter group"
  }
  assert {
    condition     = aws_redshift_logging.this[0].cluster_identifier == aws_redshift_cluster.this[0].cluster_identifier && aws_redshift_logging.this[0].log_destination_type == "cloudwatch"
    error_message = "audit logging must be on for the cluster"
  }
  assert {
    condition     = toset(aws_redshift_logging.this[0].log_exports) == toset(["connectionlog", "userlog", "useractivitylog"])
    error_message = "the audit log must export connection, user and user activity logs"
  }
  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.warehouse_audit : g.retention_in_days == 365])
    error_message = "the audit log groups must have the configured retention"
  }
}

run "outputs_give_the_endpoint_without_a_password" {
  assert {
    condition     = output.warehouse_jdbc_url == "jdbc:redshift://user-pipeline-warehouse.abc123xyz.eu-west-1.redshift.amazonaws.com:5439/user_data?ssl=true"
    error_message = "unexpected JDBC URL: ${output.warehouse_jdbc_url}"
  }
  assert {
    condition     = output.warehouse_postgres_url == "postgres://pipeline_admin@user-pipeline-warehouse.abc123xyz.eu-west-1.redshift.amazonaws.com:5439/user_data?sslmode=verify-full"
    error_message = "unexpected PostgreSQL URL: ${output.warehouse_postgres_url}"
  }
  assert {
    condition     = output.redshift_role_arn == aws_iam_role.redshift.arn && output.staging_bucket == aws_s3_bucket.staging.bucket
    error_message = "the role and bucket outputs must name the module's role and bucket"
  }
  assert {
    condition     = output.kafka_brokers == null && output.kafka_cluster_arn == null && output.kafka_client_settings == null && output.kafka_scram_secret_arn == null && output.kafka_client_policy_json == null
    error_message = "without MSK the Kafka outputs must be null"
  }
}

run "redshift_assumes_the_role_by_default" {
  assert {
    condition     = aws_redshift_cluster.this[0].iam_roles == toset([aws_iam_role.redshift.arn]) && aws_redshift_cluster.this[0].default_iam_role_arn == aws_iam_role.redshift.arn
    error_message = "the cluster must have the staging role, as its default role"
  }
}

run "final_snapshot_is_kept_unless_skipped" {
  command = plan

  assert {
    condition     = aws_redshift_cluster.this[0].skip_final_snapshot == false && aws_redshift_cluster.this[0].final_snapshot_identifier == "user-pipeline-warehouse-final"
    error_message = "destroying the cluster must leave a final snapshot by default"
  }
}
