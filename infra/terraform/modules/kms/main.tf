# Customer-managed keys, one per purpose, each with rotation and an explicit key policy.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

data "aws_iam_policy_document" "account_admin" {
  #checkov:skip=CKV_AWS_111:In a KMS key policy Resource "*" means the key the policy is attached to; access is scoped by the principals.
  #checkov:skip=CKV_AWS_356:In a KMS key policy Resource "*" means the key the policy is attached to; access is scoped by the principals.
  #checkov:skip=CKV_AWS_109:In a KMS key policy Resource "*" means the key the policy is attached to; access is scoped by the principals.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }
}

data "aws_iam_policy_document" "logs" {
  #checkov:skip=CKV_AWS_111:In a KMS key policy Resource "*" means the key the policy is attached to; access is scoped by the principals.
  #checkov:skip=CKV_AWS_356:In a KMS key policy Resource "*" means the key the policy is attached to; access is scoped by the principals.
  source_policy_documents = [data.aws_iam_policy_document.account_admin.json]
  statement {
    sid       = "CloudWatchLogsUse"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "eks" {
  description             = "${var.name} EKS secrets envelope encryption"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.account_admin.json
}

resource "aws_kms_key" "data" {
  description             = "${var.name} RDS, ElastiCache and evidence bucket"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.account_admin.json
}

resource "aws_kms_key" "logs" {
  description             = "${var.name} CloudWatch log groups"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.logs.json
}
