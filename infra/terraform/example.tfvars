# Example values; copy to <env>.tfvars and run:
#   terraform init -backend-config=backend.hcl && terraform plan -var-file=<env>.tfvars
environment          = "staging"
region               = "eu-west-1"
availability_zones   = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr             = "10.40.0.0/16"
evidence_bucket_name = "assay-staging-evidence-111122223333"
route53_zone_name    = "example.com"
hostname             = "assay.staging.example.com"
github_repository    = "example-org/assay"
node_instance_types  = ["m6i.large"]
tags = {
  owner       = "platform"
  cost-center = "qa"
}
