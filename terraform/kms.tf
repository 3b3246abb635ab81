# One customer-managed key for everything this module stores: the warehouse's data, the admin
# password secret, the staging bucket's objects, MSK's volumes and the MSK SCRAM user's secret
# (MSK refuses secrets under the AWS-managed key). The key policy is AWS's default (the account
# administers the key and IAM policies grant its use): the services above use it through grants
# on behalf of the principals that create or read the resources.
resource "aws_kms_key" "this" {
  description             = "${var.name}: Redshift, its admin secret, the staging bucket, MSK and its SCRAM secret"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
