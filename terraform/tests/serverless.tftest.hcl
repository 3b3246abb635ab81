# warehouse_mode = "serverless": Redshift Serverless instead of the cluster, with the same
# guarantees. Runs offline with mock_provider.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  region                   = "eu-west-1"
  vpc_id                   = "vpc-0a1b2c3d4e5f60718"
  private_subnet_ids       = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722", "subnet-0a1b2c3d4e5f60733"]
  worker_security_group_id = "sg-0a1b2c3d4e5f6feed"
}

run "serverless_replaces_the_cluster" {
  command = plan

  variables {
    warehouse_mode = "serverless"
  }

  assert {
    condition     = length(aws_redshiftserverless_namespace.this) == 1 && length(aws_redshiftserverless_workgroup.this) == 1
    error_message = "serverless mode must create one namespace and one workgroup"
  }
  assert {
    condition     = length(aws_redshift_cluster.this) == 0 && length(aws_redshift_subnet_group.this) == 0 && length(aws_redshift_parameter_group.this) == 0 && length(aws_redshift_logging.this) == 0 && length(aws_cloudwatch_log_group.warehouse_audit) == 0
    error_message = "serverless mode must not create the provisioned cluster or its companions"
  }
  assert {
    condition     = aws_redshiftserverless_namespace.this[0].db_name == "user_data"
    error_message = "the namespace's database must be user_data"
  }
}

run "workgroup_is_private_ssl_only_and_routed_through_the_vpc" {
  variables {
    warehouse_mode = "serverless"
  }

  assert {
    condition     = aws_redshiftserverless_workgroup.this[0].publicly_accessible == false
    error_message = "the workgroup must not be publicly accessible"
  }
  assert {
    condition     = aws_redshiftserverless_workgroup.this[0].enhanced_vpc_routing == true
    error_message = "enhanced VPC routing must be on"
  }
  assert {
    condition     = aws_redshiftserverless_workgroup.this[0].subnet_ids == toset(var.private_subnet_ids) && aws_redshiftserverless_workgroup.this[0].security_group_ids == toset([aws_security_group.warehouse.id])
    error_message = "the workgroup must sit in the private subnets behind the warehouse security group"
  }
  assert {
    condition     = contains([for p in aws_redshiftserverless_workgroup.this[0].config_parameter : "${p.parameter_key}=${p.parameter_value}"], "require_ssl=true")
    error_message = "the workgroup must set require_ssl=true"
  }
  assert {
    condition     = contains([for p in aws_redshiftserverless_workgroup.this[0].config_parameter : "${p.parameter_key}=${p.parameter_value}"], "enable_user_activity_logging=true")
    error_message = "the workgroup must log user activity"
  }
  assert {
    condition     = aws_redshiftserverless_workgroup.this[0].base_capacity == 8 && aws_redshiftserverless_workgroup.this[0].max_capacity == null
    error_message = "the workgroup must start at the smallest base capacity, without a ceiling by default"
  }
}

run "namespace_is_encrypted_audited_and_keeps_the_password_in_secrets_manager" {
  variables {
    warehouse_mode = "serverless"
  }

  assert {
    condition     = aws_redshiftserverless_namespace.this[0].kms_key_id == aws_kms_key.this.arn
    error_message = "the namespace must be encrypted with the module's customer-managed key"
  }
  assert {
    condition     = aws_redshiftserverless_namespace.this[0].manage_admin_password == true && aws_redshiftserverless_namespace.this[0].admin_user_password == null && aws_redshiftserverless_namespace.this[0].admin_user_password_wo == null
    error_message = "Secrets Manager must manage the admin password; no plain-text password may be set"
  }
  assert {
    condition     = aws_redshiftserverless_namespace.this[0].admin_password_secret_kms_key_id == aws_kms_key.this.key_id
    error_message = "the admin secret must be encrypted with the module's key"
  }
  assert {
    condition     = toset(aws_redshiftserverless_namespace.this[0].log_exports) == toset(["connectionlog", "userlog", "useractivitylog"])
    error_message = "audit logging must export connection, user and user activity logs"
  }
  assert {
    condition     = aws_redshiftserverless_namespace.this[0].iam_roles == toset([aws_iam_role.redshift.arn]) && aws_redshiftserverless_namespace.this[0].default_iam_role_arn == aws_iam_role.redshift.arn
    error_message = "the namespace must have the staging role, as its default role"
  }
}

run "outputs_point_at_the_workgroup" {
  variables {
    warehouse_mode = "serverless"
  }

  assert {
    condition     = output.warehouse_postgres_url == "postgres://pipeline_admin@user-pipeline-warehouse.111122223333.eu-west-1.redshift-serverless.amazonaws.com:5439/user_data?sslmode=verify-full"
    error_message = "unexpected PostgreSQL URL: ${output.warehouse_postgres_url}"
  }
  assert {
    condition     = output.admin_secret_arn == aws_redshiftserverless_namespace.this[0].admin_password_secret_arn
    error_message = "admin_secret_arn must be the namespace's managed secret"
  }
}

run "capacity_must_be_a_multiple_of_8" {
  command = plan

  variables {
    warehouse_mode           = "serverless"
    serverless_base_capacity = 12
  }

  expect_failures = [var.serverless_base_capacity]
}

run "capacity_ceiling_must_not_be_below_the_base" {
  command = plan

  variables {
    warehouse_mode           = "serverless"
    serverless_base_capacity = 32
    serverless_max_capacity  = 16
  }

  expect_failures = [var.serverless_max_capacity]
}
