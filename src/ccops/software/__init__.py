"""Software distribution: the catalogue, the sites' distribution points, and what each host should run."""
