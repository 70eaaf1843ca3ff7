output "cluster_name" {
  description = "EKS cluster name."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "EKS cluster ARN."
  value       = aws_eks_cluster.this.arn
}

output "oidc_provider_arn" {
  description = "IAM OIDC provider for IRSA."
  value       = aws_iam_openid_connect_provider.irsa.arn
}

output "node_security_group_id" {
  description = "Cluster security group (attached to managed nodes), allowed into RDS and Redis."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}
