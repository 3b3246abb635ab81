# Inputs. Nothing here is a secret: the warehouse admin password is generated and kept by AWS
# Secrets Manager (see redshift.tf), so no variable carries one.

variable "region" {
  description = "AWS region to deploy into, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like an AWS region name, e.g. eu-west-1."
  }
}

variable "name" {
  description = "Prefix for every resource name (cluster identifier, bucket prefix, roles)."
  type        = string
  default     = "user-pipeline"

  validation {
    # Redshift identifiers and S3 bucket names both accept this shape. 28 characters at most:
    # the bucket prefix "<name>-staging-" may have 37, the role's name prefix "<name>-redshift-" 38.
    condition     = can(regex("^[a-z][a-z0-9-]{1,26}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "name must be 3-28 characters of a-z, 0-9 and single hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Network: the VPC and its private subnets exist already (this module does not create a VPC).

variable "vpc_id" {
  description = "VPC that holds the workers, the warehouse and (optionally) MSK."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC id such as vpc-0123456789abcdef0."
  }
}

variable "private_subnet_ids" {
  description = <<-EOT
    Private subnets (no route to an internet gateway) for the warehouse and MSK. Redshift
    Serverless asks for subnets in at least three Availability Zones; provisioned MSK puts one
    broker per subnet (2 or 3 subnets).
  EOT
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 1 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "private_subnet_ids must hold at least one subnet id such as subnet-0123456789abcdef0."
  }
}

variable "worker_security_group_id" {
  description = "Security group of the worker tasks/instances: the only source admitted to the warehouse port."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]{8,17}$", var.worker_security_group_id))
    error_message = "worker_security_group_id must be a security group id such as sg-0123456789abcdef0."
  }
}

variable "s3_endpoint_route_table_ids" {
  description = <<-EOT
    Route tables of the private subnets. When set, a gateway VPC endpoint for S3 is created on
    them: with enhanced VPC routing, Redshift reaches the staging bucket through the VPC, so it
    needs either this endpoint or a NAT gateway. Leave empty if the VPC already has one.
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.s3_endpoint_route_table_ids : can(regex("^rtb-[0-9a-f]{8,17}$", r))])
    error_message = "s3_endpoint_route_table_ids must hold route table ids such as rtb-0123456789abcdef0."
  }
}

# ---------------------------------------------------------------------------------------------
# Warehouse

variable "warehouse_mode" {
  description = "\"provisioned\" (a single-node Redshift cluster) or \"serverless\" (Redshift Serverless namespace + workgroup)."
  type        = string
  default     = "provisioned"

  validation {
    condition     = contains(["provisioned", "serverless"], var.warehouse_mode)
    error_message = "warehouse_mode must be \"provisioned\" or \"serverless\"."
  }
}

variable "admin_username" {
  description = "Warehouse admin user. Its password is generated and rotated by Secrets Manager."
  type        = string
  default     = "pipeline_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.admin_username)) && !contains(["public", "rdsdb"], var.admin_username)
    error_message = "admin_username must be 1-63 lowercase letters, digits or underscores, start with a letter, and not be public or rdsdb (reserved by Redshift)."
  }
}

variable "node_type" {
  description = "Node type of the provisioned single-node cluster (RA3 types support single-node clusters and managed storage)."
  type        = string
  default     = "ra3.large"

  validation {
    condition     = can(regex("^(ra3|dc2)\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must be a Redshift node type such as ra3.large or ra3.xlplus."
  }
}

variable "snapshot_retention_days" {
  description = "Automated snapshot retention of the provisioned cluster, in days (1-35)."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_days >= 1 && var.snapshot_retention_days <= 35 && floor(var.snapshot_retention_days) == var.snapshot_retention_days
    error_message = "snapshot_retention_days must be a whole number from 1 to 35."
  }
}

variable "skip_final_snapshot" {
  description = "Destroy the provisioned cluster without a final snapshot. Keep false outside throwaway environments."
  type        = bool
  default     = false
}

variable "serverless_base_capacity" {
  description = "Base capacity of the serverless workgroup, in RPUs (8-512, a multiple of 8)."
  type        = number
  default     = 8

  validation {
    condition     = var.serverless_base_capacity >= 8 && var.serverless_base_capacity <= 512 && var.serverless_base_capacity % 8 == 0
    error_message = "serverless_base_capacity must be a multiple of 8 from 8 to 512."
  }
}

variable "serverless_max_capacity" {
  description = "Upper bound of the serverless workgroup's capacity in RPUs (a cost ceiling); null for no limit."
  type        = number
  default     = null

  validation {
    condition     = var.serverless_max_capacity == null ? true : (var.serverless_max_capacity >= var.serverless_base_capacity && var.serverless_max_capacity % 8 == 0)
    error_message = "serverless_max_capacity must be a multiple of 8 and at least serverless_base_capacity."
  }
}

variable "audit_log_retention_days" {
  description = "Retention of the warehouse audit logs (connection, user, user activity) in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.audit_log_retention_days)
    error_message = "audit_log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

# ---------------------------------------------------------------------------------------------
# Staging bucket

variable "staging_expiration_days" {
  description = "Days after which objects in the S3 staging bucket are deleted (staged files are transient)."
  type        = number
  default     = 7

  validation {
    condition     = var.staging_expiration_days >= 1 && floor(var.staging_expiration_days) == var.staging_expiration_days
    error_message = "staging_expiration_days must be a whole number of days, at least 1."
  }
}

variable "staging_prefix" {
  description = "Key prefix under which the worker stages gzip CSV for COPY (the worker's WAREHOUSE_S3_PREFIX); its policy grants writes under it only."
  type        = string
  default     = "staging/"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$", var.staging_prefix))
    error_message = "staging_prefix must be letters, digits, '.', '_', '-' and '/', ending in '/'."
  }
}

# ---------------------------------------------------------------------------------------------
# Kafka (optional Amazon MSK)

variable "msk_mode" {
  description = <<-EOT
    "none" (bring your own Kafka; the default), "provisioned" (an MSK cluster; how clients
    authenticate is msk_client_authentication) or "serverless" (MSK Serverless, which accepts only
    IAM authentication: SASL/IAM on port 9098, the programs with KAFKA_SASL_MECHANISM=aws-msk-iam,
    see docs/deploy.md).
  EOT
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "provisioned", "serverless"], var.msk_mode)
    error_message = "msk_mode must be \"none\", \"provisioned\" or \"serverless\"."
  }
}

variable "msk_client_authentication" {
  description = <<-EOT
    How clients of the provisioned MSK cluster authenticate, over TLS in every case:
    - "scram" (the default): SASL/SCRAM-SHA-512 on port 9096, as one user whose password is in a
      Secrets Manager secret; the programs use KAFKA_SASL_MECHANISM=scram-sha-512.
    - "iam": SASL/IAM on port 9098, each program signing in with its own IAM role, whose
      least-privilege policy is an output (<program>_kafka_policy_json); the programs use
      KAFKA_SASL_MECHANISM=aws-msk-iam.
    - "tls": no client authentication, port 9094: the security group is the only access control.
    Ignored unless msk_mode is "provisioned" (MSK Serverless is always IAM).
  EOT
  type        = string
  default     = "scram"

  validation {
    condition     = contains(["scram", "iam", "tls"], var.msk_client_authentication)
    error_message = "msk_client_authentication must be \"scram\", \"iam\" or \"tls\"."
  }
}

# The programs' topic and group names (their KAFKA_TOPIC, KAFKA_DLQ_TOPIC and KAFKA_GROUP_ID, with
# the same defaults): with IAM authentication the policies grant access to these names only.

variable "kafka_topic" {
  description = "The topic of user events: the programs' KAFKA_TOPIC. With IAM authentication the ingest may write to it, the worker read it, re-drive write to it."
  type        = string
  default     = "user_created"

  validation {
    condition     = can(regex("^[a-zA-Z0-9._-]{1,249}$", var.kafka_topic))
    error_message = "kafka_topic must be a Kafka topic name: 1-249 letters, digits, '.', '_' or '-'."
  }
}

variable "kafka_dlq_topic" {
  description = "The dead-letter topic: the programs' KAFKA_DLQ_TOPIC. With IAM authentication the worker may write to it, re-drive read it."
  type        = string
  default     = "user_created.dlq"

  validation {
    condition     = can(regex("^[a-zA-Z0-9._-]{1,249}$", var.kafka_dlq_topic)) && var.kafka_dlq_topic != var.kafka_topic
    error_message = "kafka_dlq_topic must be a Kafka topic name (1-249 letters, digits, '.', '_' or '-') other than kafka_topic."
  }
}

variable "kafka_group_id" {
  description = <<-EOT
    The workers' consumer group: the programs' KAFKA_GROUP_ID. With IAM authentication the
    worker may use this group, the console describe it, and re-drive use the groups named after it
    ("<kafka_group_id>-redrive-<filter>", as `deno task redrive` names them).
  EOT
  type        = string
  default     = "user-pipeline-worker"

  validation {
    # Narrower than Kafka allows: '*' and '?' would be wildcards in the policies' group ARNs.
    condition     = can(regex("^[a-zA-Z0-9._-]{1,255}$", var.kafka_group_id))
    error_message = "kafka_group_id must be 1-255 letters, digits, '.', '_' or '-' (no '*' or '?', which IAM policies read as wildcards)."
  }
}

variable "kafka_client_security_group_ids" {
  description = "Security groups besides the workers' that may reach MSK (typically the ingest service's)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for g in var.kafka_client_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", g))])
    error_message = "kafka_client_security_group_ids must hold security group ids such as sg-0123456789abcdef0."
  }
}

variable "msk_kafka_version" {
  description = "Kafka version of the provisioned MSK cluster."
  type        = string
  default     = "3.9.x"
}

variable "msk_broker_instance_type" {
  description = "Broker instance type of the provisioned MSK cluster."
  type        = string
  default     = "kafka.m7g.large"

  validation {
    condition     = startswith(var.msk_broker_instance_type, "kafka.")
    error_message = "msk_broker_instance_type must be an MSK broker type such as kafka.m7g.large."
  }
}

variable "msk_broker_count" {
  description = "Number of brokers of the provisioned MSK cluster: a multiple of the number of private subnets, at least 3 for replication factor 3."
  type        = number
  default     = 3

  validation {
    condition     = var.msk_broker_count >= 3 && floor(var.msk_broker_count) == var.msk_broker_count
    error_message = "msk_broker_count must be a whole number, at least 3 (topics are replicated 3 times)."
  }
}

variable "msk_broker_volume_gib" {
  description = "EBS volume per MSK broker, in GiB."
  type        = number
  default     = 100

  validation {
    condition     = var.msk_broker_volume_gib >= 1 && var.msk_broker_volume_gib <= 16384
    error_message = "msk_broker_volume_gib must be from 1 to 16384."
  }
}
