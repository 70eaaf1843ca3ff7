variable "name" {
  description = "Name prefix for the keys' descriptions."
  type        = string
}
