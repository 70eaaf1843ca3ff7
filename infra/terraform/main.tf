# Assay on AWS: a VPC across three AZs, EKS with IRSA, RDS PostgreSQL (multi-AZ),
# ElastiCache Redis, the evidence bucket with Object Lock, an ALB behind WAF with
# Route53/ACM, and the role GitHub Actions assumes through OIDC.

locals {
  name = "assay-${var.environment}"
}

module "kms" {
  source = "./modules/kms"
  name   = local.name
}

module "network" {
  source               = "./modules/network"
  name                 = local.name
  cidr                 = var.vpc_cidr
  azs                  = var.availability_zones
  flow_log_kms_key_arn = module.kms.logs_key_arn
  log_retention_days   = var.log_retention_days
}

module "eks" {
  source              = "./modules/eks"
  name                = local.name
  kubernetes_version  = var.kubernetes_version
  vpc_id              = module.network.vpc_id
  private_subnet_ids  = module.network.private_subnet_ids
  node_instance_types = var.node_instance_types
  node_min_size       = var.node_min_size
  node_max_size       = var.node_max_size
  node_desired_size   = var.node_desired_size
  public_access_cidrs = var.eks_public_access_cidrs
  secrets_kms_key_arn = module.kms.eks_key_arn
  logs_kms_key_arn    = module.kms.logs_key_arn
  log_retention_days  = var.log_retention_days
}

module "rds" {
  source                     = "./modules/rds"
  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.node_security_group_id]
  instance_class             = var.rds_instance_class
  allocated_storage          = var.rds_allocated_storage
  engine_version             = var.rds_engine_version
  kms_key_arn                = module.kms.data_key_arn
  backup_retention_days      = var.rds_backup_retention_days
}

module "redis" {
  source                     = "./modules/redis"
  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.node_security_group_id]
  node_type                  = var.redis_node_type
  kms_key_arn                = module.kms.data_key_arn
}

module "evidence_bucket" {
  source                 = "./modules/evidence_bucket"
  bucket_name            = var.evidence_bucket_name
  kms_key_arn            = module.kms.data_key_arn
  object_lock_mode       = var.evidence_object_lock_mode
  object_lock_days       = var.evidence_retention_days
  noncurrent_expire_days = var.evidence_noncurrent_expire_days
}

module "dns" {
  source    = "./modules/dns"
  zone_name = var.route53_zone_name
  hostname  = var.hostname
}

module "alb" {
  source            = "./modules/alb"
  name              = local.name
  vpc_id            = module.network.vpc_id
  vpc_cidr          = var.vpc_cidr
  public_subnet_ids = module.network.public_subnet_ids
  certificate_arn   = module.dns.certificate_arn
  access_log_bucket = module.evidence_bucket.access_log_bucket_name
  waf_rate_limit    = var.waf_rate_limit
  logs_kms_key_arn  = module.kms.logs_key_arn
  service_port      = var.service_port
}

resource "aws_route53_record" "service" {
  zone_id = module.dns.zone_id
  name    = var.hostname
  type    = "A"
  alias {
    name                   = module.alb.dns_name
    zone_id                = module.alb.zone_id
    evaluate_target_health = true
  }
}

module "ci_oidc" {
  source              = "./modules/ci_oidc"
  name                = local.name
  github_repository   = var.github_repository
  evidence_bucket_arn = module.evidence_bucket.bucket_arn
  evidence_kms_arn    = module.kms.data_key_arn
  eks_cluster_arn     = module.eks.cluster_arn
}
