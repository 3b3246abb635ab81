# The role the warehouse assumes for COPY: it reads the staging bucket and nothing else.
resource "aws_iam_role" "redshift" {
  name_prefix = "${var.name}-redshift-"
  description = "Assumed by Redshift (${var.warehouse_mode}) to read the ${var.name} staging bucket"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"] }
    }]
  })
}

resource "aws_iam_role_policy" "redshift_read_staging" {
  name = "read-staging-bucket"
  role = aws_iam_role.redshift.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ListStagingBucket"
        Effect   = "Allow"
        Action   = ["s3:ListBucket", "s3:GetBucketLocation"]
        Resource = aws_s3_bucket.staging.arn
      },
      {
        Sid      = "ReadStagedFiles"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${aws_s3_bucket.staging.arn}/*"
      },
      {
        # The staged objects are encrypted with the module's key: decrypt, only through S3.
        Sid       = "DecryptStagedFiles"
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = aws_kms_key.this.arn
        Condition = { StringEquals = { "kms:ViaService" = "s3.${data.aws_region.current.name}.amazonaws.com" } }
      },
    ]
  })
}
