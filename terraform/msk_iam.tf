# With IAM authentication (MSK Serverless, or msk_client_authentication = "iam"), what a client
# may do on the cluster is what its IAM role's policy allows. One policy per program, on this
# cluster's ARNs and the pipeline's topic and group names only (kafka_topic, kafka_dlq_topic,
# kafka_group_id), from what each program's code does:
#
#   ingest   writes events (an idempotent producer)
#   worker   reads events in its group, writes dead letters (idempotent)
#   redrive  reads dead letters in its own groups, writes events (idempotent)
#   console  reads both topics without a group, and the worker group's committed offsets
#
# plus one for the operator who creates the topics and adds partitions. MSK asks for the actions
# an action depends on (kafka-actions in its developer guide): WriteData and ReadData need
# DescribeTopic, AlterGroup needs DescribeGroup, all need Connect. The producers are idempotent
# (shared/kafka/producer.ts), which is WriteDataIdempotently on the cluster.
#
# The module does not create the compute nor the programs' roles, so these are outputs
# (<program>_kafka_policy_json) to attach to each program's role (ECS task role, instance
# profile). All null without IAM.

locals {
  msk_cluster_arn = (
    var.msk_mode == "provisioned" ? one(aws_msk_cluster.this[*].arn) :
    var.msk_mode == "serverless" ? one(aws_msk_serverless_cluster.this[*].arn) :
    null
  )

  # Topic and group ARNs repeat the cluster's name and UUID after the resource type:
  #   cluster  arn:aws:kafka:<region>:<account>:cluster/<cluster-name>/<cluster-uuid>
  #   topic    arn:aws:kafka:<region>:<account>:topic/<cluster-name>/<cluster-uuid>/<topic>
  #   group    arn:aws:kafka:<region>:<account>:group/<cluster-name>/<cluster-uuid>/<group>
  # so they are built from the cluster's ARN (a cluster name has no ':').
  msk_topic_arn = local.msk_iam ? {
    events       = "${replace(local.msk_cluster_arn, ":cluster/", ":topic/")}/${var.kafka_topic}"
    dead_letters = "${replace(local.msk_cluster_arn, ":cluster/", ":topic/")}/${var.kafka_dlq_topic}"
  } : null
  msk_group_arn = local.msk_iam ? {
    worker = "${replace(local.msk_cluster_arn, ":cluster/", ":group/")}/${var.kafka_group_id}"
    # One group per re-drive filter (shared/redrive/redrive_filter.ts: redriveGroupId).
    redrive = "${replace(local.msk_cluster_arn, ":cluster/", ":group/")}/${var.kafka_group_id}-redrive-*"
  } : null

  # The statements more than one program's policy holds.
  msk_statement = local.msk_iam ? {
    connect_and_produce = {
      Sid      = "ConnectAndProduceIdempotently"
      Effect   = "Allow"
      Action   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
      Resource = local.msk_cluster_arn
    }
    read_events = {
      Sid      = "ReadEvents"
      Effect   = "Allow"
      Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
      Resource = local.msk_topic_arn.events
    }
    write_events = {
      Sid      = "WriteEvents"
      Effect   = "Allow"
      Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
      Resource = local.msk_topic_arn.events
    }
    read_dead_letters = {
      Sid      = "ReadDeadLetters"
      Effect   = "Allow"
      Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
      Resource = local.msk_topic_arn.dead_letters
    }
    write_dead_letters = {
      Sid      = "WriteDeadLetters"
      Effect   = "Allow"
      Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
      Resource = local.msk_topic_arn.dead_letters
    }
  } : null

  kafka_ingest_policy = local.msk_iam ? jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.msk_statement.connect_and_produce,
      local.msk_statement.write_events,
    ]
  }) : null

  kafka_worker_policy = local.msk_iam ? jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.msk_statement.connect_and_produce,
      local.msk_statement.read_events,
      local.msk_statement.write_dead_letters,
      {
        # Join, heartbeat, commit (AlterGroup) and read the committed offsets (DescribeGroup).
        Sid      = "UseWorkerGroup"
        Effect   = "Allow"
        Action   = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
        Resource = local.msk_group_arn.worker
      },
    ]
  }) : null

  kafka_redrive_policy = local.msk_iam ? jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.msk_statement.connect_and_produce,
      local.msk_statement.read_dead_letters,
      local.msk_statement.write_events,
      {
        # Its own groups only: a re-drive never touches the workers' group.
        Sid      = "UseRedriveGroups"
        Effect   = "Allow"
        Action   = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
        Resource = local.msk_group_arn.redrive
      },
    ]
  }) : null

  # Read-only: the console fetches from partitions without joining a group
  # (shared/kafka/partition_reader.ts) and reads the worker group's committed offsets for the lag.
  # Its re-drive button runs a re-drive: give its role the redrive policy as well to use it.
  kafka_console_policy = local.msk_iam ? jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Connect"
        Effect   = "Allow"
        Action   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
        Resource = local.msk_cluster_arn
      },
      {
        Sid      = "ReadTopics"
        Effect   = "Allow"
        Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
        Resource = [local.msk_topic_arn.events, local.msk_topic_arn.dead_letters]
      },
      {
        Sid      = "DescribeWorkerGroup"
        Effect   = "Allow"
        Action   = ["kafka-cluster:DescribeGroup"]
        Resource = local.msk_group_arn.worker
      },
    ]
  }) : null

  # For the operator (docs/deploy.md): create the two topics, look at them, add partitions. No
  # data, no groups, no other topic.
  kafka_topic_admin_policy = local.msk_iam ? jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Connect"
        Effect   = "Allow"
        Action   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
        Resource = local.msk_cluster_arn
      },
      {
        Sid      = "ManagePipelineTopics"
        Effect   = "Allow"
        Action   = ["kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic", "kafka-cluster:AlterTopic", "kafka-cluster:DescribeTopicDynamicConfiguration"]
        Resource = [local.msk_topic_arn.events, local.msk_topic_arn.dead_letters]
      },
    ]
  }) : null
}
