variable "name" {
  description = "Name prefix of the role."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the repository whose workflows may assume the role."
  type        = string
}

variable "evidence_bucket_arn" {
  description = "Evidence bucket the pipelines publish packs to."
  type        = string
}

variable "evidence_kms_arn" {
  description = "KMS key of the evidence bucket and ECR repositories."
  type        = string
}

variable "eks_cluster_arn" {
  description = "Cluster the deploy job may describe (access is granted by an EKS access entry)."
  type        = string
}
