output "kubeconfig_command" {
  description = "Command that writes a kubeconfig entry for the cluster."
  value       = "aws eks update-kubeconfig --region ${var.region} --name ${module.eks.cluster_name}"
}

output "eks_cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "eks_oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster, for IRSA roles."
  value       = module.eks.oidc_provider_arn
}

output "alb_dns_name" {
  description = "DNS name of the application load balancer."
  value       = module.alb.dns_name
}

output "alb_target_group_arn" {
  description = "Target group for the Helm chart's TargetGroupBinding (targetGroupBinding.targetGroupARN)."
  value       = module.alb.target_group_arn
}

output "service_url" {
  description = "Public HTTPS URL of the service; use as ASSAY_TARGET_URL."
  value       = "https://${var.hostname}"
}

output "rds_endpoint" {
  description = "RDS PostgreSQL endpoint (host:port)."
  value       = module.rds.endpoint
}

output "rds_master_secret_arn" {
  description = "Secrets Manager secret holding the RDS master credentials (managed by RDS)."
  value       = module.rds.master_secret_arn
}

output "redis_endpoint" {
  description = "ElastiCache Redis primary endpoint (TLS)."
  value       = module.redis.primary_endpoint
}

output "evidence_bucket_name" {
  description = "Evidence bucket name, for `assay evidence --publish s3://...`."
  value       = module.evidence_bucket.bucket_name
}

output "ci_role_arn" {
  description = "Role GitHub Actions assumes through OIDC (aws-actions/configure-aws-credentials role-to-assume)."
  value       = module.ci_oidc.role_arn
}
