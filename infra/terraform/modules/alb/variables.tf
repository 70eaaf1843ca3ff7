variable "name" {
  description = "Name of the ALB, its target group and web ACL."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the ALB."
  type        = string
}

variable "vpc_cidr" {
  description = "VPC CIDR: the ALB may only reach pods inside it."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets, one per AZ."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate for the HTTPS listener."
  type        = string
}

variable "access_log_bucket" {
  description = "Bucket receiving ALB access logs (SSE-S3)."
  type        = string
}

variable "waf_rate_limit" {
  description = "Requests per 5 minutes per IP before the WAF blocks."
  type        = number
}

variable "logs_kms_key_arn" {
  description = "KMS key for the WAF log group."
  type        = string
}

variable "service_port" {
  description = "Pod port the target group forwards to."
  type        = number
}
