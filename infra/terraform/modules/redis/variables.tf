variable "name" {
  description = "Replication group id and name prefix."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the cache."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the cache subnet group."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to connect on 6379."
  type        = list(string)
}

variable "node_type" {
  description = "Cache node type."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for encryption at rest and the AUTH secret."
  type        = string
}
