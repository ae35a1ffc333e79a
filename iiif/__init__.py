"""IIIF Presentation manifests, canvases, 3D scenes and AnnotationPage export, Content
Search and Content State. Pure domain code: no I/O."""
