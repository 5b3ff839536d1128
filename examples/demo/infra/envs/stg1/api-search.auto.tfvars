# Search API in staging. Remediations may change replicas.
replicas      = 2
instance_type = "t3.medium"
