# API gateway in eu1. Remediations may change replicas; everything else is reviewed by hand.
replicas      = 4 # doubled during the March incident
instance_type = "m6i.large"
