# The S3 staging bucket and the role Redshift assumes: private, encrypted, TLS-only, emptied by a
# lifecycle rule, and readable by that role alone. Runs offline with mock_provider.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  region                   = "eu-west-1"
  vpc_id                   = "vpc-0a1b2c3d4e5f60718"
  private_subnet_ids       = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722", "subnet-0a1b2c3d4e5f60733"]
  worker_security_group_id = "sg-0a1b2c3d4e5f6feed"
}

run "bucket_blocks_public_access" {
  assert {
    condition = (
      aws_s3_bucket_public_access_block.staging.bucket == aws_s3_bucket.staging.id &&
      aws_s3_bucket_public_access_block.staging.block_public_acls &&
      aws_s3_bucket_public_access_block.staging.block_public_policy &&
      aws_s3_bucket_public_access_block.staging.ignore_public_acls &&
      aws_s3_bucket_public_access_block.staging.restrict_public_buckets
    )
    error_message = "all four public access blocks must be on for the staging bucket"
  }
  assert {
    condition     = one(aws_s3_bucket_ownership_controls.staging.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)"
  }
}

run "bucket_is_encrypted_with_the_module_key" {
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.staging.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "the staging bucket must use SSE-KMS"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.staging.rule).apply_server_side_encryption_by_default).kms_master_key_id == aws_kms_key.this.arn
    error_message = "the staging bucket must be encrypted with the module's customer-managed key"
  }
}

run "bucket_policy_denies_requests_without_tls" {
  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.staging.policy).Statement :
      s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:*" && s.Condition.Bool["aws:SecureTransport"] == "false" &&
      toset(s.Resource) == toset([aws_s3_bucket.staging.arn, "${aws_s3_bucket.staging.arn}/*"])
    ])
    error_message = "the bucket policy must deny every request without TLS, on the bucket and its objects"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_s3_bucket_policy.staging.policy).Statement : s.Effect == "Deny"])
    error_message = "the bucket policy must not grant anything (access is granted by IAM policies)"
  }
}

run "lifecycle_rule_expires_staged_files" {
  variables {
    staging_expiration_days = 3
  }

  assert {
    condition     = one(aws_s3_bucket_lifecycle_configuration.staging.rule).status == "Enabled" && one(one(aws_s3_bucket_lifecycle_configuration.staging.rule).expiration).days == 3
    error_message = "staged files must expire after staging_expiration_days"
  }
  assert {
    condition     = one(one(aws_s3_bucket_lifecycle_configuration.staging.rule).abort_incomplete_multipart_upload).days_after_initiation == 1
    error_message = "incomplete multipart uploads must be cleaned up"
  }
}

run "redshift_role_reads_only_the_staging_bucket" {
  assert {
    condition = toset(flatten([
      for s in jsondecode(aws_iam_role_policy.redshift_read_staging.policy).Statement : s.Resource
    ])) == toset([aws_s3_bucket.staging.arn, "${aws_s3_bucket.staging.arn}/*", aws_kms_key.this.arn])
    error_message = "the role's policy may name only the staging bucket, its objects and the module's key"
  }
  assert {
    condition = toset(flatten([
      for s in jsondecode(aws_iam_role_policy.redshift_read_staging.policy).Statement : s.Action
    ])) == toset(["s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "kms:Decrypt"])
    error_message = "the role may only list and read the bucket and decrypt its objects (no writes, no wildcards)"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.redshift_read_staging.policy).Statement : s.Effect == "Allow" && !can(s.NotAction) && !can(s.NotResource)])
    error_message = "the role's policy must be plain Allow statements (no NotAction/NotResource)"
  }
  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.redshift_read_staging.policy).Statement :
      s.Action == ["kms:Decrypt"] && try(s.Condition.StringEquals["kms:ViaService"], null) == "s3.eu-west-1.amazonaws.com"
    ])
    error_message = "kms:Decrypt must be limited to use through S3"
  }
  assert {
    condition     = aws_iam_role_policy.redshift_read_staging.role == aws_iam_role.redshift.id
    error_message = "the read policy must be attached to the Redshift role"
  }
}

run "only_redshift_can_assume_the_role" {
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role.redshift.assume_role_policy).Statement :
      s.Action == "sts:AssumeRole" && keys(s.Principal) == ["Service"] &&
      toset(s.Principal.Service) == toset(["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"])
    ])
    error_message = "only the Redshift services may assume the role"
  }
}

run "s3_gateway_endpoint_is_optional" {
  command = plan

  assert {
    condition     = length(aws_vpc_endpoint.s3) == 0
    error_message = "no S3 endpoint without route tables"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.warehouse_https.cidr_ipv4 == "0.0.0.0/0" && aws_vpc_security_group_egress_rule.warehouse_https.from_port == 443 && aws_vpc_security_group_egress_rule.warehouse_https.to_port == 443
    error_message = "without the module's endpoint, the warehouse may send HTTPS (only) to S3 through the VPC's own route"
  }
}

run "s3_gateway_endpoint_on_the_given_route_tables" {
  variables {
    s3_endpoint_route_table_ids = ["rtb-0a1b2c3d4e5f60718"]
  }

  assert {
    condition     = aws_vpc_security_group_egress_rule.warehouse_https.prefix_list_id == aws_vpc_endpoint.s3[0].prefix_list_id && aws_vpc_security_group_egress_rule.warehouse_https.cidr_ipv4 == null
    error_message = "with the module's S3 endpoint, the warehouse may send HTTPS only to S3's prefix list"
  }

  assert {
    condition     = aws_vpc_endpoint.s3[0].service_name == "com.amazonaws.eu-west-1.s3" && aws_vpc_endpoint.s3[0].vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.s3[0].route_table_ids == toset(["rtb-0a1b2c3d4e5f60718"])
    error_message = "the S3 gateway endpoint must serve the given route tables"
  }
}

run "worker_staging_policy_grants_put_and_delete_under_the_prefix_and_nothing_else" {
  assert {
    condition = (
      length(jsondecode(output.worker_staging_policy_json).Statement) == 2 &&
      jsondecode(output.worker_staging_policy_json).Statement[0].Effect == "Allow" &&
      toset(jsondecode(output.worker_staging_policy_json).Statement[0].Action) == toset(["s3:PutObject", "s3:DeleteObject"]) &&
      jsondecode(output.worker_staging_policy_json).Statement[0].Resource == "${aws_s3_bucket.staging.arn}/staging/*"
    )
    error_message = "the worker may only put and delete objects under staging/ of the staging bucket"
  }
  assert {
    condition = (
      jsondecode(output.worker_staging_policy_json).Statement[1].Action == ["kms:GenerateDataKey"] &&
      jsondecode(output.worker_staging_policy_json).Statement[1].Resource == aws_kms_key.this.arn &&
      jsondecode(output.worker_staging_policy_json).Statement[1].Condition.StringEquals["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"
    )
    error_message = "the worker may only make data keys of the module's key, and only through S3"
  }
}

run "worker_staging_policy_follows_the_prefix" {
  variables {
    staging_prefix = "copy/users/"
  }
  assert {
    condition     = jsondecode(output.worker_staging_policy_json).Statement[0].Resource == "${aws_s3_bucket.staging.arn}/copy/users/*"
    error_message = "the policy must follow staging_prefix"
  }
}

run "staging_prefix_must_end_in_a_slash" {
  command = plan
  variables {
    staging_prefix = "copy"
  }
  expect_failures = [var.staging_prefix]
}
