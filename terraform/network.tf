# The warehouse's security group: the workers' security group is the only source admitted to the
# warehouse port. Nothing else (no CIDR, not the ingest) can open a connection.
resource "aws_security_group" "warehouse" {
  name_prefix = "${var.name}-warehouse-"
  description = "Redshift for ${var.name}: reachable only from the workers' security group"
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "warehouse_from_workers" {
  security_group_id            = aws_security_group.warehouse.id
  description                  = "Redshift from the workers"
  ip_protocol                  = "tcp"
  from_port                    = local.warehouse_port
  to_port                      = local.warehouse_port
  referenced_security_group_id = var.worker_security_group_id
}

# With enhanced VPC routing, COPY traffic to S3 leaves through the VPC: HTTPS out, to the S3
# gateway endpoint's prefix list when this module creates the endpoint, otherwise to any address
# (an existing endpoint or a NAT gateway). Nothing else goes out.
resource "aws_vpc_security_group_egress_rule" "warehouse_https" {
  security_group_id = aws_security_group.warehouse.id
  description       = "HTTPS to S3 for COPY from the staging bucket"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = one(aws_vpc_endpoint.s3[*].prefix_list_id)
  cidr_ipv4         = length(aws_vpc_endpoint.s3) > 0 ? null : "0.0.0.0/0"
}

data "aws_region" "current" {}

resource "aws_vpc_endpoint" "s3" {
  count = length(var.s3_endpoint_route_table_ids) > 0 ? 1 : 0

  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.s3_endpoint_route_table_ids
}
