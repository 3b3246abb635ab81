# Bad inputs fail at plan time with a message, before anything reaches AWS.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  region                   = "eu-west-1"
  vpc_id                   = "vpc-0a1b2c3d4e5f60718"
  private_subnet_ids       = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722", "subnet-0a1b2c3d4e5f60733"]
  worker_security_group_id = "sg-0a1b2c3d4e5f6feed"
}

run "unknown_warehouse_mode_is_rejected" {
  command = plan

  variables {
    warehouse_mode = "aurora"
  }

  expect_failures = [var.warehouse_mode]
}

run "worker_security_group_must_be_a_security_group_id" {
  command = plan

  variables {
    worker_security_group_id = "0.0.0.0/0"
  }

  expect_failures = [var.worker_security_group_id]
}

run "private_subnets_are_required" {
  command = plan

  variables {
    private_subnet_ids = []
  }

  expect_failures = [var.private_subnet_ids]
}

run "name_must_suit_redshift_and_s3" {
  command = plan

  variables {
    name = "User_Pipeline"
  }

  expect_failures = [var.name]
}

run "name_must_leave_room_for_the_bucket_and_role_prefixes" {
  command = plan

  variables {
    name = "a-name-of-twenty-nine-letters"
  }

  expect_failures = [var.name]
}

run "longest_name_fits_every_prefix" {
  command = plan

  variables {
    name = "a-name-of-twenty-eight-chars"
  }

  assert {
    condition     = length(aws_s3_bucket.staging.bucket_prefix) <= 37 && length(aws_iam_role.redshift.name_prefix) <= 38
    error_message = "the bucket prefix may have 37 characters, the role's name prefix 38"
  }
}

run "admin_username_must_not_be_reserved" {
  command = plan

  variables {
    admin_username = "rdsdb"
  }

  expect_failures = [var.admin_username]
}

run "admin_username_must_not_be_public" {
  command = plan

  variables {
    admin_username = "public"
  }

  expect_failures = [var.admin_username]
}

run "region_must_look_like_a_region" {
  command = plan

  variables {
    region = "Ireland"
  }

  expect_failures = [var.region]
}
