variable "region" {
  description = "AWS region for every resource."
  type        = string
  default     = "eu-west-1"
}

variable "environment" {
  description = "Environment name (staging, prod); prefixes resource names as assay-<environment>."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 lowercase letters, digits or dashes."
  }
}

variable "tags" {
  description = "Extra tags applied to every resource through the provider's default_tags."
  type        = map(string)
  default     = {}
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; split into three public and three private subnets."
  type        = string
  default     = "10.40.0.0/16"
}

variable "availability_zones" {
  description = "Exactly three availability zones to spread subnets, nodes, RDS and Redis over."
  type        = list(string)
  validation {
    condition     = length(var.availability_zones) == 3
    error_message = "Provide exactly three availability zones."
  }
}

variable "log_retention_days" {
  description = "CloudWatch retention for VPC flow logs, EKS control-plane logs and WAF logs (at least 365)."
  type        = number
  default     = 365
}

variable "kubernetes_version" {
  description = "EKS control-plane version."
  type        = string
  default     = "1.30"
}

variable "node_instance_types" {
  description = "Instance types of the EKS managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_min_size" {
  description = "Minimum number of EKS worker nodes."
  type        = number
  default     = 3
}

variable "node_max_size" {
  description = "Maximum number of EKS worker nodes."
  type        = number
  default     = 9
}

variable "node_desired_size" {
  description = "Initial number of EKS worker nodes."
  type        = number
  default     = 3
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to reach the EKS API endpoint publicly; empty keeps the endpoint private only."
  type        = list(string)
  default     = []
}

variable "rds_instance_class" {
  description = "RDS PostgreSQL instance class; raise it when the DB latency runbook says so."
  type        = string
  default     = "db.m6g.large"
}

variable "rds_allocated_storage" {
  description = "RDS allocated storage in GiB (gp3)."
  type        = number
  default     = 50
}

variable "rds_engine_version" {
  description = "RDS PostgreSQL engine version."
  type        = string
  default     = "16.4"
}

variable "rds_backup_retention_days" {
  description = "Days of automated RDS backups kept for point-in-time recovery."
  type        = number
  default     = 14
}

variable "redis_node_type" {
  description = "ElastiCache Redis node type."
  type        = string
  default     = "cache.m6g.large"
}

variable "evidence_bucket_name" {
  description = "Globally unique name of the S3 bucket that stores evidence packs."
  type        = string
}

variable "evidence_object_lock_mode" {
  description = "Default Object Lock mode of the evidence bucket: COMPLIANCE (nobody can shorten it) or GOVERNANCE."
  type        = string
  default     = "COMPLIANCE"
  validation {
    condition     = contains(["COMPLIANCE", "GOVERNANCE"], var.evidence_object_lock_mode)
    error_message = "evidence_object_lock_mode must be COMPLIANCE or GOVERNANCE."
  }
}

variable "evidence_retention_days" {
  description = "Days each evidence object is locked against deletion or overwrite (one year of orders evidence per seed section 23)."
  type        = number
  default     = 365
}

variable "evidence_noncurrent_expire_days" {
  description = "Days after which noncurrent evidence versions expire (only once their lock has passed)."
  type        = number
  default     = 400
}

variable "route53_zone_name" {
  description = "Existing public Route53 hosted zone, e.g. example.com."
  type        = string
}

variable "hostname" {
  description = "Fully qualified name the service is published under, inside route53_zone_name."
  type        = string
}

variable "waf_rate_limit" {
  description = "WAF rate-based rule: requests per 5 minutes per client IP before blocking."
  type        = number
  default     = 2000
}

variable "service_port" {
  description = "Container port of the reference service (target group port, target type ip)."
  type        = number
  default     = 8000
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose workflows may assume the CI role via OIDC."
  type        = string
}
