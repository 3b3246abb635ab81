# Provider and Terraform versions. The AWS provider is pinned to the 5.100 line: the tests
# (tests/*.tftest.hcl) run against it with `mock_provider`, so an upgrade is a deliberate change
# made together with a green `terraform test`.
terraform {
  # mock_provider in `terraform test` needs 1.7; variable validations that refer to other
  # variables need 1.9.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Project   = "user-pipeline"
      Component = var.name
      ManagedBy = "terraform"
    })
  }
}
