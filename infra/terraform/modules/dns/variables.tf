variable "zone_name" {
  description = "Existing public hosted zone."
  type        = string
}

variable "hostname" {
  description = "Hostname the certificate covers."
  type        = string
}
