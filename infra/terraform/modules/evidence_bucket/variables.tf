variable "bucket_name" {
  description = "Evidence bucket name; the access-log bucket is <name>-access-logs."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS of evidence objects."
  type        = string
}

variable "object_lock_mode" {
  description = "Default Object Lock mode (COMPLIANCE or GOVERNANCE)."
  type        = string
}

variable "object_lock_days" {
  description = "Default Object Lock retention in days."
  type        = number
}

variable "noncurrent_expire_days" {
  description = "Days before noncurrent versions expire (never before their lock ends)."
  type        = number
}
